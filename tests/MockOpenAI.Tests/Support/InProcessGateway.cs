using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// The gateway as its Program builds it, on a real Kestrel port, with <paramref name="settings"/> as its configuration
/// from the start (Program.cs and the service defaults read some of it before the host is built) and
/// <paramref name="testServices"/> added last.
/// </summary>
internal sealed class InProcessGateway(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection> testServices)
    : WebApplicationFactory<Gateway.Pipeline.GatewayHandler>
{
    /// <summary>The subscription key of <c>chat-app</c> in a gateway made by <see cref="InFrontOf"/>.</summary>
    public const string ChatAppKey = "end-to-end-chat-app-key";

    /// <summary>This checkout's root folder.</summary>
    public static string RepoRoot { get; } = typeof(InProcessGateway).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>This checkout's <c>apim/</c>.</summary>
    public static string ShippedApimPath { get; } = Path.Combine(RepoRoot, "apim");

    public Uri Url => ClientOptions.BaseAddress;

    /// <summary>
    /// The gateway with this checkout's <c>apim/</c> (the shipped policy, topology and circuit breakers), started on
    /// <paramref name="time"/>, signing its managed-identity tokens with <paramref name="signingKey"/> (the key the mock
    /// accounts trust), each backend named in <paramref name="backends"/> reached at the account given for it; with
    /// <paramref name="apimPath"/>, that folder instead of the shipped one; <paramref name="settings"/> added to (or
    /// replacing) its configuration and <paramref name="services"/> to its services.
    /// </summary>
    public static InProcessGateway InFrontOf(
        TimeProvider time,
        RSA signingKey,
        IReadOnlyDictionary<string, Uri> backends,
        string? apimPath = null,
        IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Apim:Path"] = apimPath ?? ShippedApimPath,
            ["Apim:WatchForChanges"] = "false",
            ["Apim:NamedValues:managed-identity-client-id"] = "test-client-id",
            ["Apim:Subscriptions:chat-app:PrimaryKey"] = ChatAppKey,
            ["LocalIdentity:SigningKey"] = signingKey.ExportPkcs8PrivateKeyPem(),
        };
        foreach (var (id, account) in backends)
        {
            configuration[$"Apim:Backends:{id}:Url"] = new Uri(account, "/openai").ToString();
        }

        foreach (var (name, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[name] = value;
        }

        return new InProcessGateway(configuration, collection =>
        {
            collection.AddSingleton(time);
            services?.Invoke(collection);
        }).Start();
    }

    public InProcessGateway Start()
    {
        // A free port through the "urls" setting (below), not UseKestrel(port): the factory sets a port by clearing the
        // server's addresses after the app has started building, which races Kestrel's bind (dotnet/aspnetcore#67714).
        UseKestrel();
        StartServer();
        return this;
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        // Host configuration reaches the entry point as command-line arguments, so the builder in Program.cs sees it.
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(settings)
            .AddInMemoryCollection([new KeyValuePair<string, string?>("urls", "http://127.0.0.1:0")]));
        return base.CreateHost(builder);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.ConfigureTestServices(testServices);
}
