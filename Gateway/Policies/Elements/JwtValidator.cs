using System.Globalization;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// What <c>validate-jwt</c> and <c>validate-azure-ad-token</c> share once they hold a token: parsing it, validating it
/// with IdentityModel on the gateway's clock, and turning the library's failures into API Management's reasons (the
/// "Error handling" page's table for <c>validate-jwt</c>) with messages that never carry the token.
/// </summary>
internal static class JwtValidator
{
    private static readonly JsonWebTokenHandler Handler = new();

    /// <summary>The token's parts, or a JwtInvalid failure for text that is no JWT.</summary>
    public static JsonWebToken Parse(string token, Func<string, string, PolicyExecutionException> failure)
    {
        try
        {
            return new JsonWebToken(token);
        }
        catch (ArgumentException ex)
        {
            throw failure(ErrorReasons.JwtInvalid, Redact(ex.Message, token));
        }
    }

    /// <summary>The validated token, or the failure API Management reports for the first problem the library finds.</summary>
    /// <param name="token">The token's text.</param>
    /// <param name="parsed">The token as <see cref="Parse"/> read it.</param>
    /// <param name="parameters">What to check; its <c>LifetimeValidator</c> should be <see cref="Lifetime"/>.</param>
    /// <param name="failure">Makes the exception for a reason and message.</param>
    public static async Task<JsonWebToken> ValidateAsync(string token, JsonWebToken parsed, TokenValidationParameters parameters, Func<string, string, PolicyExecutionException> failure)
    {
        var result = await Handler.ValidateTokenAsync(token, parameters);
        if (result.IsValid)
        {
            return (JsonWebToken)result.SecurityToken;
        }

        var keys = parameters.IssuerSigningKeys?.ToList() ?? [];
        var keyNotResolved = parsed.IsSigned && (keys.Count == 0 || (parsed.Kid is { Length: > 0 } kid && !keys.Any(k => string.Equals(k.KeyId, kid, StringComparison.Ordinal))));
        var (reason, detail) = Describe(result.Exception, keyNotResolved);
        throw failure(reason, Redact(detail, token));
    }

    /// <summary>
    /// Lifetime checked against <paramref name="now"/> (the gateway's clock: the library would read the system's), with
    /// <paramref name="skew"/> either side.
    /// </summary>
    public static LifetimeValidator Lifetime(DateTime now, TimeSpan skew, bool requireExpiration) =>
        (notBefore, expires, _, _) => CheckLifetime(now, skew, requireExpiration, notBefore, expires);

    private static bool CheckLifetime(DateTime now, TimeSpan skew, bool requireExpiration, DateTime? notBefore, DateTime? expires)
    {
        if (expires is null && requireExpiration)
        {
            throw new SecurityTokenNoExpirationException("Lifetime validation failed. The token is missing an Expiration Time.");
        }

        if (notBefore is { } from && expires is { } to && from > to)
        {
            throw new SecurityTokenInvalidLifetimeException(string.Create(CultureInfo.InvariantCulture, $"Lifetime validation failed. The NotBefore (UTC): '{from:O}' is after Expires (UTC): '{to:O}'."));
        }

        if (notBefore is { } start && start > now + skew)
        {
            throw new SecurityTokenNotYetValidException(string.Create(CultureInfo.InvariantCulture, $"Lifetime validation failed. The token is not yet valid. ValidFrom (UTC): '{start:O}', Current time (UTC): '{now:O}'."));
        }

        if (expires is { } end && end < now - skew)
        {
            throw new SecurityTokenExpiredException(string.Create(CultureInfo.InvariantCulture, $"Lifetime validation failed. The token is expired. ValidTo (UTC): '{end:O}', Current time (UTC): '{now:O}'."));
        }

        return true;
    }

    /// <summary>API Management's reason and message for a failure of the JWT library.</summary>
    /// <remarks>
    /// A signature failure is "key not found" when the signed token names a key id that none of the keys has, or when
    /// there are no keys at all (API Management: "signature key was not resolved by ID"); otherwise it is invalid.
    /// </remarks>
    private static (string Reason, string Message) Describe(Exception? exception, bool keyNotResolved)
    {
        var reason = exception switch
        {
            SecurityTokenExpiredException => ErrorReasons.TokenExpired,
            SecurityTokenInvalidAudienceException => ErrorReasons.TokenAudienceNotAllowed,
            SecurityTokenInvalidIssuerException => ErrorReasons.TokenIssuerNotAllowed,
            SecurityTokenInvalidSignatureException when keyNotResolved => ErrorReasons.TokenSignatureKeyNotFound,
            SecurityTokenInvalidSignatureException => ErrorReasons.TokenSignatureInvalid,
            _ => ErrorReasons.JwtInvalid,
        };
        var message = exception?.Message ?? "The token is not valid.";
        return (reason, reason == ErrorReasons.JwtInvalid ? message : message.TrimEnd(' ', '.') + ". Access denied.");
    }

    /// <summary>
    /// The library hides tokens in its messages unless someone turns its PII logging on; the message is logged and
    /// reaches on-error, so the token (or its unsigned part) is removed in any case.
    /// </summary>
    private static string Redact(string message, string token)
    {
        var unsigned = token.LastIndexOf('.') is > 0 and var dot ? token[..dot] : token;
        return message.Replace(token, "[token]", StringComparison.Ordinal).Replace(unsigned, "[token]", StringComparison.Ordinal);
    }
}
