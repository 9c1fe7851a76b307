using System.Net;
using System.Security.Cryptography;
using Gateway.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Identity;

public sealed class OpenIdConfigurationCacheTests : IDisposable
{
    private const string Location = "https://login.example/.well-known/openid-configuration";
    private readonly string _apim = Directory.CreateTempSubdirectory("openid-").FullName;
    private readonly FakeTimeProvider _time = new();
    private readonly StubHandler _handler = new();

    [Fact]
    public async Task GetAsync_CallerCancelsTheFirstFetch_TheNextRequestFetchesAtOnce()
    {
        using var rsa = RSA.Create(2048);
        _handler.Respond(Location, """{ "issuer": "https://login.example/", "jwks_uri": "https://login.example/keys" }""");
        _handler.Respond("https://login.example/keys", Jwks(rsa, "k1"));
        _handler.Hold = true;
        var cache = Cache();
        using var leaving = new CancellationTokenSource();

        var first = cache.GetAsync(Location, _apim, "k1", leaving.Token).AsTask();
        await leaving.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first);
        _handler.Hold = false;
        var second = await cache.GetAsync(Location, _apim, "k1", CancellationToken.None);

        Assert.Equal("k1", Assert.Single(second.Keys).KeyId);
        Assert.Equal("https://login.example/", second.Issuer);
    }

    [Fact]
    public async Task GetAsync_HttpDocumentNamingALocalFileAsJwksUri_IsRefusedAndTheFileIsNotRead()
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(Path.Combine(_apim, "named-values.json"), Jwks(rsa, "local-file"));
        _handler.Respond(Location, """{ "issuer": "https://login.example/", "jwks_uri": "named-values.json" }""");
        var cache = Cache();

        var configuration = await cache.GetAsync(Location, _apim, null, CancellationToken.None);

        Assert.Empty(configuration.Keys);
        Assert.Equal([Location], _handler.Requested);
    }

    public void Dispose()
    {
        _handler.Dispose();
        Directory.Delete(_apim, recursive: true);
    }

    private OpenIdConfigurationCache Cache() => new(new StubClients(_handler), _time, NullLogger<OpenIdConfigurationCache>.Instance);

    private static string Jwks(RSA rsa, string kid)
    {
        var key = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = kid });
        return $$"""{ "keys": [ { "kty": "RSA", "use": "sig", "kid": "{{kid}}", "n": "{{key.N}}", "e": "{{key.E}}" } ] }""";
    }

    private sealed class StubClients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    private sealed class StubHandler : HttpMessageHandler
    {
        private readonly Dictionary<string, string> _bodies = new(StringComparer.Ordinal);

        public bool Hold { get; set; }

        public List<string> Requested { get; } = [];

        public void Respond(string url, string body) => _bodies[url] = body;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var url = request.RequestUri!.ToString();
            Requested.Add(url);
            if (Hold)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            return _bodies.TryGetValue(url, out var body)
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body) }
                : new HttpResponseMessage(HttpStatusCode.NotFound);
        }
    }
}
