using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Expressions;

/// <summary>
/// A JSON web token as policy expressions see it (API Management's <c>Jwt</c>): what <c>validate-jwt</c> stores in
/// <c>output-token-variable-name</c> and what <see cref="JwtExtensions.AsJwt"/> returns.
/// </summary>
public sealed class Jwt
{
    private Jwt(JsonWebToken token)
    {
        Algorithm = token.Alg;
        Audiences = [.. token.Audiences];
        Claims = token.Claims
            .GroupBy(c => c.Type, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(c => c.Value).ToArray(), StringComparer.Ordinal);
        ExpirationTime = Time(token, JwtRegisteredClaimNames.Exp);
        Id = token.Id;
        Issuer = token.Issuer;
        IssuedAt = Time(token, JwtRegisteredClaimNames.Iat);
        NotBefore = Time(token, JwtRegisteredClaimNames.Nbf);
        Subject = token.Subject;
        Type = token.Typ;
    }

    /// <summary>The <c>alg</c> header, e.g. <c>RS256</c>.</summary>
    public string Algorithm { get; }

    /// <summary>The <c>aud</c> claim's values.</summary>
    public IEnumerable<string> Audiences { get; }

    /// <summary>Every claim of the payload by name; a claim holding an array has one value per element.</summary>
    public IReadOnlyDictionary<string, string[]> Claims { get; }

    /// <summary>The <c>exp</c> claim (UTC); null when the token has none.</summary>
    public DateTime? ExpirationTime { get; }

    /// <summary>The <c>jti</c> claim.</summary>
    public string Id { get; }

    /// <summary>The <c>iss</c> claim.</summary>
    public string Issuer { get; }

    /// <summary>The <c>iat</c> claim (UTC); null when the token has none.</summary>
    public DateTime? IssuedAt { get; }

    /// <summary>The <c>nbf</c> claim (UTC); null when the token has none.</summary>
    public DateTime? NotBefore { get; }

    /// <summary>The <c>sub</c> claim.</summary>
    public string Subject { get; }

    /// <summary>The <c>typ</c> header, e.g. <c>JWT</c>.</summary>
    public string Type { get; }

    /// <summary>The token's view for expressions; a decrypted token (JWE) shows its inner token.</summary>
    internal static Jwt From(JsonWebToken token) => new(token.InnerToken ?? token);

    private static DateTime? Time(JsonWebToken token, string claim) =>
        token.TryGetPayloadValue<long>(claim, out var seconds) ? DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime : null;
}
