using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Tests.Support;

/// <summary>
/// An OpenID provider on a loopback port: <c>/.well-known/openid-configuration</c> naming its issuer and
/// <c>/keys</c>, the JSON web key set of its current RSA signing keys. It counts the documents it serves.
/// </summary>
internal sealed class OpenIdProvider : IAsyncDisposable
{
    public const string ConfigurationPath = "/.well-known/openid-configuration";

    private readonly WebApplication _app;
    private volatile IReadOnlyList<RsaSecurityKey> _keys = [];
    private int _configurationRequests;
    private int _keyRequests;

    private OpenIdProvider(WebApplication app)
    {
        _app = app;
    }

    public string Url => _app.Urls.First();

    public string Issuer => Url + "/";

    public int ConfigurationRequests => _configurationRequests;

    public int KeyRequests => _keyRequests;

    public static async Task<OpenIdProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new OpenIdProvider(app);
        app.MapGet(ConfigurationPath, () =>
        {
            Interlocked.Increment(ref provider._configurationRequests);
            return Results.Json(new Dictionary<string, string> { ["issuer"] = provider.Issuer, ["jwks_uri"] = provider.Url + "/keys" });
        });
        app.MapGet("/keys", () =>
        {
            Interlocked.Increment(ref provider._keyRequests);
            return Results.Text(KeySet(provider._keys), "application/json");
        });
        await app.StartAsync();
        return provider;
    }

    /// <summary>The JSON web key set of RSA public keys, as a provider publishes it.</summary>
    public static string KeySet(IEnumerable<RsaSecurityKey> keys)
    {
        var array = new JsonArray();
        foreach (var key in keys)
        {
            var parameters = key.Rsa.ExportParameters(includePrivateParameters: false);
            array.Add(new JsonObject
            {
                ["kty"] = "RSA",
                ["use"] = "sig",
                ["alg"] = "RS256",
                ["kid"] = key.KeyId,
                ["n"] = Base64UrlEncoder.Encode(parameters.Modulus),
                ["e"] = Base64UrlEncoder.Encode(parameters.Exponent),
            });
        }

        return new JsonObject { ["keys"] = array }.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>Publishes these keys from now on (a key rotation).</summary>
    public void Publish(params RsaSecurityKey[] keys) => _keys = keys;

    public static RsaSecurityKey NewKey(string keyId) => new(RSA.Create(2048)) { KeyId = keyId };

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
