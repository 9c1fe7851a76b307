using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MockContentSafety.Analysis;
using MockContentSafety.Server;
using MockHosting;

namespace MockContentSafety.Tests.Support;

/// <summary>
/// One mock Content Safety account on a loopback port, trusting the tokens of its own issuer (the gateway's
/// <see cref="LocalTokenIssuer"/>, on a fake clock), called over real HTTP. Blocklist item ids count up:
/// 00000001-0000-0000-0000-000000000000, 00000002-..., and so on.
/// </summary>
internal sealed class LoopbackContentSafety : IAsyncDisposable
{
    public const string AdminPassword = "loopback-admin-password";

    private readonly RSA _key = RSA.Create(2048);
    private readonly LocalSigningKey _signingKey;
    private readonly LocalTokenIssuer _issuer;
    private readonly ContentSafetyServer _server;
    private int _ids;

    private LoopbackContentSafety(MockContentSafetyOptions options)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
        var port = FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Admin = new HttpClient { BaseAddress = Http.BaseAddress };
        Admin.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.AdminUsername}:{options.AdminPassword}")));
        var validator = new BearerTokenValidator(Options.Create(new MockHosting.LocalIdentityOptions { PublicKey = _key.ExportSubjectPublicKeyInfoPem() }), time);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{port}" }).Build();
        Blocklists = new BlocklistStore(() => new Guid(++_ids, 0, 0, new byte[8]));
        _server = new ContentSafetyServer(Options.Create(options), validator, Blocklists, configuration, NullLogger<ContentSafetyServer>.Instance);
        var identity = Options.Create(new Gateway.Identity.LocalIdentityOptions { SigningKey = _key.ExportPkcs8PrivateKeyPem() });
        _signingKey = new LocalSigningKey(identity);
        _issuer = new LocalTokenIssuer(_signingKey, identity, time);
    }

    public HttpClient Http { get; }

    /// <summary>A client of WireMock's admin API, with the account's admin credentials.</summary>
    public HttpClient Admin { get; }

    public BlocklistStore Blocklists { get; }

    /// <summary>The key whose tokens the account accepts (for a gateway that signs with it).</summary>
    public RSA SigningKey => _key;

    public static async Task<LoopbackContentSafety> StartAsync(MockContentSafetyOptions? options = null)
    {
        options ??= new MockContentSafetyOptions();
        options.AdminPassword ??= AdminPassword;
        var account = new LoopbackContentSafety(options);
        await account._server.StartAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        return account;
    }

    /// <summary>A request with the account's bearer token (unless <paramref name="authenticated"/> is false) and a JSON body, if any.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, bool authenticated = true, string? contentType = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, contentType ?? "application/json");
        }

        if (authenticated)
        {
            request.Headers.Authorization = new("Bearer", (await _issuer.GetTokenAsync("https://cognitiveservices.azure.com", null, CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request)).Token);
        }

        return await Http.SendAsync(request).WaitAsync(TestTimeouts.Request);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        _server.Dispose();
        _signingKey.Dispose();
        Http.Dispose();
        Admin.Dispose();
        _key.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
