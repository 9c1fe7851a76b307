using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Gateway.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MockHosting;
using MockOpenAI.Server;
using MockOpenAI.Storage;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// One mock account on a loopback port, on the given fake clock, with its own signing key (or a gateway's) and token
/// issuer, called over real HTTP. Two of them are two accounts: each has its own stored responses.
/// </summary>
internal sealed class LoopbackAccount : IAsyncDisposable
{
    /// <summary>The admin API's password, unless the test's options set their own (or none, to turn it off).</summary>
    public const string AdminPassword = "loopback-admin-password";

    private readonly RSA _key;
    private readonly bool _ownsKey;
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly LocalSigningKey _signingKey;
    private readonly LocalTokenIssuer _issuer;
    private readonly MockAccountServer _server;

    private LoopbackAccount(FakeTimeProvider time, MockOpenAIOptions options, RSA? signingKey)
    {
        _ownsKey = signingKey is null;
        _key = signingKey ?? RSA.Create(2048);
        var port = FreePort();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Admin = new HttpClient { BaseAddress = Http.BaseAddress };
        Admin.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.AdminUsername}:{options.AdminPassword}")));
        var metrics = new MockMetrics(_meters.GetRequiredService<IMeterFactory>());
        Relay = new StreamRelay(time, metrics);
        Responses = new ResponseStore(Options.Create(options), time);
        Faults = new AccountFaults(time);
        var validator = new BearerTokenValidator(Options.Create(new MockHosting.LocalIdentityOptions { PublicKey = _key.ExportSubjectPublicKeyInfoPem() }), time);
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["urls"] = $"http://127.0.0.1:{port}" }).Build();
        _server = new MockAccountServer(
            Options.Create(options),
            validator,
            Relay,
            new FaultInjector(time, metrics, Faults),
            Faults,
            new LatencyModel(new Random(1)),
            new RandomFaults(Options.Create(options), new Random(1)),
            metrics,
            Responses,
            time,
            configuration,
            NullLogger<MockAccountServer>.Instance);
        var identity = Options.Create(new Gateway.Identity.LocalIdentityOptions { SigningKey = _key.ExportPkcs8PrivateKeyPem() });
        _signingKey = new LocalSigningKey(identity);
        _issuer = new LocalTokenIssuer(_signingKey, identity, time);
    }

    public HttpClient Http { get; }

    /// <summary>A client of WireMock's admin API, with the account's admin credentials.</summary>
    public HttpClient Admin { get; }

    /// <summary>The issuer of the account's bearer tokens (for an SDK credential, say).</summary>
    public LocalTokenIssuer Issuer => _issuer;

    /// <summary>The meter factory the account's metrics are created from (for a MetricCollector).</summary>
    public IMeterFactory MeterFactory => _meters.GetRequiredService<IMeterFactory>();

    public StreamRelay Relay { get; }

    public ResponseStore Responses { get; }

    /// <summary>The account-wide faults (<c>/__mock/faults</c>).</summary>
    public AccountFaults Faults { get; }

    /// <summary>Starts an account; it accepts the tokens of <c>signingKey</c>'s issuer (a gateway's, say) when given, else of its own.</summary>
    public static async Task<LoopbackAccount> StartAsync(FakeTimeProvider time, MockOpenAIOptions options, bool withAdmin = true, RSA? signingKey = null)
    {
        options.AdminPassword ??= withAdmin ? AdminPassword : null;
        var account = new LoopbackAccount(time, options, signingKey);
        await account._server.StartAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        return account;
    }

    /// <summary>A request with the account's bearer token (or none), its JSON body if any, read to the end unless <paramref name="completion"/> says otherwise.</summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, bool authenticated = true, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(method, path);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        if (authenticated)
        {
            request.Headers.Authorization = new("Bearer", (await _issuer.GetTokenAsync("https://cognitiveservices.azure.com", "client", CancellationToken.None).AsTask().WaitAsync(TestTimeouts.Request)).Token);
        }

        return await Http.SendAsync(request, completion).WaitAsync(TestTimeouts.Request);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(CancellationToken.None).WaitAsync(TestTimeouts.Request);
        _server.Dispose();
        _signingKey.Dispose();
        Http.Dispose();
        Admin.Dispose();
        if (_ownsKey)
        {
            _key.Dispose();
        }
        await _meters.DisposeAsync();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
