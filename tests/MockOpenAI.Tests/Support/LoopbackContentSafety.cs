using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MockContentSafety;
using MockContentSafety.Analysis;
using MockContentSafety.Server;
using MockHosting;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// A mock Azure AI Content Safety account (MockContentSafety) on a loopback port, trusting the tokens of the key the
/// gateway and the mock Azure OpenAI accounts of a test share, on the test's clock.
/// </summary>
internal sealed class LoopbackContentSafety : IAsyncDisposable
{
    private readonly BearerTokenValidator _validator;
    private readonly ContentSafetyServer _server;

    private LoopbackContentSafety(RSA signingKey, TimeProvider time)
    {
        var port = FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        _validator = new BearerTokenValidator(Options.Create(new MockHosting.LocalIdentityOptions { PublicKey = signingKey.ExportSubjectPublicKeyInfoPem() }), time);
        _server = new ContentSafetyServer(
            Options.Create(new MockContentSafetyOptions()),
            _validator,
            new BlocklistStore(Guid.NewGuid),
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{port}" }).Build(),
            NullLogger<ContentSafetyServer>.Instance);
    }

    public HttpClient Http { get; }

    public static async Task<LoopbackContentSafety> StartAsync(RSA signingKey, TimeProvider time)
    {
        var account = new LoopbackContentSafety(signingKey, time);
        await account._server.StartAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        return account;
    }

    /// <summary>Creates (or keeps) <paramref name="blocklist"/> with one more item, through the account's own endpoints, with <paramref name="token"/>.</summary>
    public async Task AddBlocklistItemAsync(string token, string blocklist, string text)
    {
        foreach (var (method, path, json) in new[]
        {
            (HttpMethod.Patch, $"/contentsafety/text/blocklists/{blocklist}?api-version=2024-09-01", """{"description":"test"}"""),
            (HttpMethod.Post, $"/contentsafety/text/blocklists/{blocklist}:addOrUpdateBlocklistItems?api-version=2024-09-01", $$"""{"blocklistItems":[{"text":"{{text}}"}]}"""),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await Http.SendAsync(request).WaitAsync(TestTimeouts.Request);
            Assert.True(response.IsSuccessStatusCode, $"{method} {path}: {(int)response.StatusCode}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        _server.Dispose();
        _validator.Dispose();
        Http.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
