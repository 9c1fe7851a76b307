using System.Reflection;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// The gateway with this checkout's <c>apim/</c> (the shipped policy, topology and circuit breakers) on a real Kestrel
/// port, on <paramref name="time"/>, signing its managed-identity tokens with <paramref name="signingKey"/> (the key
/// the mock accounts trust), each backend named in <paramref name="backends"/> reached at the account given for it.
/// </summary>
internal sealed class GatewayInFront(TimeProvider time, RSA signingKey, IReadOnlyDictionary<string, Uri> backends)
    : WebApplicationFactory<Gateway.Pipeline.GatewayHandler>
{
    /// <summary>The subscription key of <c>chat-app</c>.</summary>
    public const string Key = "end-to-end-chat-app-key";

    private static readonly string RepoRoot = typeof(GatewayInFront).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public Uri Url => ClientOptions.BaseAddress;

    public static GatewayInFront Start(TimeProvider time, RSA signingKey, IReadOnlyDictionary<string, Uri> backends)
    {
        var gateway = new GatewayInFront(time, signingKey, backends);
        gateway.UseKestrel(0);
        gateway.StartServer();
        return gateway;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Apim:Path", Path.Combine(RepoRoot, "apim"));
        builder.UseSetting("Apim:WatchForChanges", "false");
        builder.UseSetting("Apim:NamedValues:managed-identity-client-id", "test-client-id");
        builder.UseSetting("Apim:Subscriptions:chat-app:PrimaryKey", Key);
        builder.UseSetting("LocalIdentity:SigningKey", signingKey.ExportPkcs8PrivateKeyPem());
        foreach (var (id, account) in backends)
        {
            builder.UseSetting($"Apim:Backends:{id}:Url", new Uri(account, "/openai").ToString());
        }

        builder.ConfigureTestServices(services => services.AddSingleton(time));
    }
}
