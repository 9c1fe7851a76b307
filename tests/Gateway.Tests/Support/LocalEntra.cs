using System.Net.Http.Json;
using System.Text.Json;
using Gateway.Identity;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Support;

/// <summary>
/// The gateway's local Entra tenant in tests: the settings that turn it on (an admin key, so tokens can be minted) and
/// point <c>validate-azure-ad-token</c> at it, the wiring that lets the gateway read its own OpenID documents through the
/// in-memory test server, and minting through <c>POST /_gateway/admin/entra/tokens</c>.
/// </summary>
internal static class LocalEntra
{
    public const string AdminKey = "admin-key-for-the-entra-tests-0123456789";

    /// <summary>The local tenant as the in-memory gateway serves it.</summary>
    public const string Authority = "http://localhost" + LocalEntraApi.Authority;

    public static Guid Tenant => LocalIdentityOptions.DefaultTenantId;

    /// <summary>The admin key, and <c>Identity:EntraAuthority</c> pointing at the local tenant unless <paramref name="authority"/> is false.</summary>
    public static Dictionary<string, string> Settings(bool authority = true)
    {
        var settings = new Dictionary<string, string> { ["Gateway:AdminKey"] = AdminKey };
        if (authority)
        {
            settings["Identity:EntraAuthority"] = Authority;
        }

        return settings;
    }

    /// <summary>Sends the gateway's OpenID document requests to the gateway itself (the test server has no port).</summary>
    public static void ServeOpenIdFromTheGateway(IServiceCollection services) =>
        services.AddHttpClient(OpenIdConfigurationCache.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(provider => ((TestServer)provider.GetRequiredService<IServer>()).CreateHandler());

    /// <summary>A token from the local tenant; the request is <see cref="LocalEntraTokenRequest"/>'s JSON.</summary>
    public static async Task<string> MintAsync(HttpClient client, object request)
    {
        using var response = await MintResponseAsync(client, request, AdminKey);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        return body.RootElement.GetProperty("access_token").GetString()!;
    }

    public static async Task<HttpResponseMessage> MintResponseAsync(HttpClient client, object request, string? adminKey)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, LocalEntraApi.TokensPath) { Content = JsonContent.Create(request) };
        if (adminKey is not null)
        {
            message.Headers.Add("x-admin-key", adminKey);
        }

        var response = await client.SendAsync(message).WaitAsync(TestTimeouts.Request);
        await response.Content.LoadIntoBufferAsync().WaitAsync(TestTimeouts.Request);
        return response;
    }
}
