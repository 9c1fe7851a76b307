using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace MockHosting;

/// <summary>
/// Verifies bearer tokens the way an Azure AI services account (Azure OpenAI, Content Safety) with local auth disabled does: signature, issuer, audience
/// and lifetime (against the injected clock).
/// </summary>
internal sealed class BearerTokenValidator : IDisposable
{
    private readonly RSA _key = RSA.Create();
    private readonly JsonWebTokenHandler _handler = new();
    private readonly TokenValidationParameters _parameters;

    public BearerTokenValidator(IOptions<LocalIdentityOptions> options, TimeProvider time)
    {
        var settings = options.Value;
        _key.ImportFromPem(settings.ReadPublicKeyPem());
        _parameters = new TokenValidationParameters
        {
            ValidIssuer = settings.Issuer,
            ValidAudience = settings.Audience,
            IssuerSigningKey = new RsaSecurityKey(_key),
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.Zero,
            LifetimeValidator = (notBefore, expires, _, _) =>
            {
                var now = time.GetUtcNow().UtcDateTime;
                return expires is { } end && now < end && (notBefore is not { } start || now >= start);
            },
        };
    }

    /// <summary>Checks an <c>Authorization</c> header value; false for anything but a valid <c>Bearer</c> token.</summary>
    public async Task<bool> IsValidAsync(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var result = await _handler.ValidateTokenAsync(authorization[scheme.Length..].Trim(), _parameters);
        return result.IsValid;
    }

    public void Dispose() => _key.Dispose();
}
