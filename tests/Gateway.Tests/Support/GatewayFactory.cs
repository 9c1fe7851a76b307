using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway in memory over a test copy of apim/, with every shipped backend pointed at one URL (each keeping its URL's
/// path, as the AppHost points them at their mocks: <c>/openai</c>, or the whole embeddings address); on <c>time</c> (a
/// FakeTimeProvider, say) instead of the system clock when given, the one way a test sets the gateway's clock;
/// <paramref name="testServices"/> may replace other services (a token provider, say), and <paramref name="settings"/>
/// add to or override the configuration.
/// </summary>
internal sealed class GatewayFactory(TestApim apim, string backendUrl, bool watchForChanges = false, TimeProvider? time = null, Action<IServiceCollection>? testServices = null, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<Program>
{
    public const string PrimaryKey = "primary-key-chat-app";
    public const string SecondaryKey = "secondary-key-chat-app";

    /// <summary>The single backends of the repository's topology, which every test copy starts with.</summary>
    public static IReadOnlyList<Gateway.Apim.Model.BackendDefinition> ShippedBackends { get; } =
        [.. Gateway.Apim.Model.Topology.Load(TestApim.RepoApimPath).Backends.Where(b => !b.IsPool)];

    private bool _onKestrel;

    public RSA SigningKey { get; } = RSA.Create(2048);

    /// <summary>Starts the gateway on a real Kestrel port (its limits and connection handling), not the in-memory test server.</summary>
    public GatewayFactory OnKestrel()
    {
        // A free port through the app's own "urls", not UseKestrel(port): the factory sets a port by clearing the server's
        // addresses after the app has started building, which races Kestrel's bind (dotnet/aspnetcore#67714).
        UseKestrel();
        _onKestrel = true;
        StartServer();
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        var options = apim.Options();
        builder.UseSetting("Apim:Path", options.Path);
        if (_onKestrel)
        {
            builder.UseSetting("urls", "http://127.0.0.1:0");
        }

        // Each watcher holds an inotify instance; only the hot-reload tests need one.
        builder.UseSetting("Apim:WatchForChanges", watchForChanges ? "true" : "false");
        builder.UseSetting("Apim:NamedValues:managed-identity-client-id", "test-client-id");
        builder.UseSetting("Apim:Subscriptions:chat-app:PrimaryKey", PrimaryKey);
        builder.UseSetting("Apim:Subscriptions:chat-app:SecondaryKey", SecondaryKey);
        builder.UseSetting("LocalIdentity:SigningKey", SigningKey.ExportPkcs8PrivateKeyPem());
        foreach (var backend in ShippedBackends)
        {
            builder.UseSetting($"Apim:Backends:{backend.Id}:Url", backendUrl + backend.UrlPath);
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        if (time is not null)
        {
            builder.ConfigureTestServices(services => services.AddSingleton(time));
        }

        if (testServices is not null)
        {
            builder.ConfigureTestServices(testServices);
        }
    }

    protected override void Dispose(bool disposing)
    {
        SigningKey.Dispose();
        base.Dispose(disposing);
    }
}
