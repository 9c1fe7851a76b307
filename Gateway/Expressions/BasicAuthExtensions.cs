using System.Diagnostics.CodeAnalysis;
using System.Text;

namespace Gateway.Expressions;

/// <summary>API Management's string helpers that read an HTTP Basic <c>Authorization</c> header value.</summary>
public static class BasicAuthExtensions
{
    private const string Scheme = "Basic";

    /// <summary>The credentials in <paramref name="input"/> (<c>Basic base64(user-id:password)</c>), or null when it is not such a value.</summary>
    public static BasicAuthCredentials? AsBasic(this string input) => TryParseBasic(input, out var result) ? result : null;

    /// <summary>Whether <paramref name="input"/> is a valid Basic authorization value; if so, <paramref name="result"/> holds its credentials.</summary>
    public static bool TryParseBasic(this string input, [NotNullWhen(true)] out BasicAuthCredentials? result)
    {
        result = null;
        var value = input?.Trim();
        // The scheme is case-insensitive (RFC 7235 section 2.1); one or more spaces separate it from the token.
        if (value is null || value.Length <= Scheme.Length || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || value[Scheme.Length] != ' ')
        {
            return false;
        }

        var token = value[Scheme.Length..].TrimStart(' ');
        var bytes = new byte[token.Length];
        if (!Convert.TryFromBase64String(token, bytes, out var length))
        {
            return false;
        }

        string decoded;
        try
        {
            // RFC 7617 leaves the charset to the server unless it announces UTF-8; UTF-8 reads ASCII alike.
            decoded = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }

        result = new BasicAuthCredentials(decoded[..colon], decoded[(colon + 1)..]);
        return true;
    }
}
