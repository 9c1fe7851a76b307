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

    [Fact]
    public void Load_FailingOnALaterApi_UnloadsWhatItHadCompiled()
    {
        using var apim = new TestApim();
        var broken = Path.Combine(apim.Path, "apis", "zz-broken");
        Directory.CreateDirectory(broken);
        File.WriteAllText(Path.Combine(broken, "api.json"), "{ not json");

        // The API policy under a file name of its own, which names its expression assemblies.
        var marker = "leakcheck" + Guid.NewGuid().ToString("N");
        var apiJson = Path.Combine(Path.GetDirectoryName(apim.PolicyPath)!, "api.json");
        File.WriteAllText(apiJson, File.ReadAllText(apiJson).Replace("\"policy.xml\"", $"\"{marker}.xml\"", StringComparison.Ordinal));
        File.Copy(apim.PolicyPath, Path.Combine(Path.GetDirectoryName(apim.PolicyPath)!, marker + ".xml"));

        for (var i = 0; i < 20; i++)
        {
            Assert.Throws<Gateway.Apim.Model.ApimArtifactException>(() => GatewayArtifacts.Load(apim.Options()));
        }

        for (var i = 0; i < 20 && LiveContexts() > 0; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        // The azure-openai API compiled before zz-broken failed, twenty times; none of those assemblies stays loaded.
        Assert.Equal(0, LiveContexts());

        int LiveContexts() => AssemblyLoadContext.All.Count(c => c.Name?.Contains(marker, StringComparison.Ordinal) == true);
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
