using System.Diagnostics.CodeAnalysis;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Expressions;

/// <summary>API Management's string helpers that read a JWT without validating it.</summary>
public static class JwtExtensions
{
    /// <summary>The token in <paramref name="input"/>, or null when it is not a well-formed JWT.</summary>
    public static Jwt? AsJwt(this string input) => TryParseJwt(input, out var result) ? result : null;

    /// <summary>Whether <paramref name="input"/> is a well-formed JWT; if so, <paramref name="result"/> is it.</summary>
    public static bool TryParseJwt(this string input, [NotNullWhen(true)] out Jwt? result)
    {
        result = null;
        if (string.IsNullOrWhiteSpace(input))
        {
            return false;
        }

        try
        {
            result = Jwt.From(new JsonWebToken(input.Trim()));
            return true;
        }
        catch (ArgumentException)
        {
            // JsonWebToken reports every malformed token (wrong part count, bad base64url, bad JSON) this way.
            return false;
        }
    }
}
