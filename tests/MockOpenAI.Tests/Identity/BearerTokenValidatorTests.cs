using System.Security.Cryptography;
using Gateway.Identity;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MockHosting;

namespace MockOpenAI.Tests.Identity;

public sealed class BearerTokenValidatorTests : IDisposable
{
    private const string Resource = "https://cognitiveservices.azure.com";
    private readonly RSA _key = RSA.Create(2048);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public async Task IsValid_TokenFromTheIssuer_IsAccepted()
    {
        using var validator = Validator(_key);
        var token = await Issue(_key, Resource, _time);

        Assert.True(await validator.IsValidAsync("Bearer " + token));
    }

    [Fact]
    public async Task IsValid_WrongAudience_IsRejected()
    {
        using var validator = Validator(_key);
        var token = await Issue(_key, "https://management.azure.com", _time);

        Assert.False(await validator.IsValidAsync("Bearer " + token));
    }

    [Fact]
    public async Task IsValid_ExpiredToken_IsRejected()
    {
        using var validator = Validator(_key);
        var token = await Issue(_key, Resource, _time);

        _time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));

        Assert.False(await validator.IsValidAsync("Bearer " + token));
    }

    [Fact]
    public async Task IsValid_TokenSignedByAnotherKey_IsRejected()
    {
        using var validator = Validator(_key);
        using var otherKey = RSA.Create(2048);
        var token = await Issue(otherKey, Resource, _time);

        Assert.False(await validator.IsValidAsync("Bearer " + token));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Bearer ")]
    [InlineData("Bearer not.a.jwt")]
    [InlineData("Basic dXNlcjpwYXNz")]
    public async Task IsValid_MissingOrMalformed_IsRejected(string? authorization)
    {
        using var validator = Validator(_key);

        Assert.False(await validator.IsValidAsync(authorization));
    }

    [Fact]
    public async Task GetToken_Twice_ReturnsTheCachedTokenUntilShortlyBeforeExpiry()
    {
        using var signingKey = SigningKey(_key);
        var issuer = Issuer(signingKey, _time);
        var first = await issuer.GetTokenAsync(Resource, "client", CancellationToken.None);

        _time.Advance(TimeSpan.FromMinutes(54));
        var cached = await issuer.GetTokenAsync(Resource, "client", CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(2));
        var renewed = await issuer.GetTokenAsync(Resource, "client", CancellationToken.None);

        Assert.Equal(first.Token, cached.Token);
        Assert.NotEqual(first.Token, renewed.Token);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromHours(1), renewed.ExpiresOn);
    }

    public void Dispose() => _key.Dispose();

    private BearerTokenValidator Validator(RSA key) =>
        new(Options.Create(new MockHosting.LocalIdentityOptions { PublicKey = key.ExportSubjectPublicKeyInfoPem() }), _time);

    private static LocalSigningKey SigningKey(RSA key) =>
        new(Options.Create(new Gateway.Identity.LocalIdentityOptions { SigningKey = key.ExportPkcs8PrivateKeyPem() }));

    private static LocalTokenIssuer Issuer(LocalSigningKey key, TimeProvider time) =>
        new(key, Options.Create(new Gateway.Identity.LocalIdentityOptions()), time);

    private static async Task<string> Issue(RSA key, string resource, TimeProvider time)
    {
        using var signingKey = SigningKey(key);
        return (await Issuer(signingKey, time).GetTokenAsync(resource, "client", CancellationToken.None)).Token;
    }
}
