using System.Runtime.CompilerServices;
using System.Runtime.Loader;
using Gateway.Apim;
using Gateway.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Apim;

public class ReloadMemoryTests
{
    [Fact]
    public void Reload_AHundredTimes_UnloadsEveryReplacedExpressionAssembly()
    {
        using var apim = new TestApim();

        var replaced = ReloadAHundredTimes(apim);
        for (var i = 0; i < 20 && replaced.Any(r => r.IsAlive); i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // Each reload compiles the global and the API policy into new collectible assemblies; once replaced, they
        // are unloaded, so a hundred reloads leave nothing behind.
        Assert.True(replaced.Count >= 100, $"{replaced.Count} load contexts tracked");
        Assert.Equal(0, replaced.Count(r => r.IsAlive));
    }

    /// <summary>Reloads a hundred times and returns weak references to the load contexts of every version it replaced.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> ReloadAHundredTimes(TestApim apim)
    {
        var replaced = new List<WeakReference>();
        using var provider = new ArtifactsProvider(Options.Create(apim.Options(o => o.WatchForChanges = false)), TimeProvider.System, NullLogger<ArtifactsProvider>.Instance);
        for (var i = 0; i < 100; i++)
        {
            replaced.AddRange(LoadContexts(provider.Current));
            provider.Reload();
        }

        Assert.Equal(100, provider.Generation);
        return replaced;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static List<WeakReference> LoadContexts(GatewayArtifacts artifacts) =>
        artifacts.Router.Routes
            .SelectMany(r => r.Policies.Documents)
            .Where(s => s.Expressions.Assembly is not null)
            .Select(s => new WeakReference(AssemblyLoadContext.GetLoadContext(s.Expressions.Assembly!)))
            .ToList();
}
