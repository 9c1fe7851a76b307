using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Xml.Linq;
using Gateway.Expressions;
using Gateway.Pipeline;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>validate-jwt</c>: the request must carry a valid JWT (in a header, a query parameter or an expression's value),
/// signed with one of the <c>issuer-signing-keys</c> or the keys of an <c>openid-config</c> document, unexpired (with
/// <c>clock-skew</c>), for one of the <c>audiences</c>, from one of the <c>issuers</c>, with the <c>required-claims</c>.
/// Otherwise the request goes to on-error with API Management's reason (TokenNotPresent, TokenSignatureInvalid,
/// TokenExpired, ...) and, unless on-error answers, the caller gets <c>failed-validation-httpcode</c> (401) with
/// <c>{"statusCode": code, "message": "..."}</c>. With <c>output-token-variable-name</c> the validated token is stored
/// as a <see cref="Jwt"/>.
/// </summary>
internal sealed class ValidateJwtPolicy(ElementInfo info, JwtTokenSource source, JwtFailureResponse failure, JwtRequirements requirements, string? outputVariable)
    : PolicyElement(info)
{
    /// <summary>The caller's message when the token is missing and the policy sets none (API Management's text).</summary>
    public const string TokenNotPresentMessage = "JWT not present.";

    /// <summary>The caller's message for any other failure when the policy sets none (API Management's text).</summary>
    public const string InvalidTokenMessage = "Invalid JWT.";

    /// <summary>HMAC keys this short are zero-padded (see <see cref="SigningKey"/>).</summary>
    private const int MinimumHmacKeyBytes = 32;

    private static readonly JsonWebTokenHandler Handler = new();

    public static PolicyElement? Parse(ElementReader reader)
    {
        var header = reader.Value("header-name");
        var query = reader.Value("query-parameter-name");
        var tokenValue = reader.Value("token-value");
        if (new[] { header, query, tokenValue }.Count(s => s is not null) != 1)
        {
            reader.Error("<validate-jwt> takes exactly one of 'header-name', 'query-parameter-name' and 'token-value'");
        }

        var code = CheckLiteral(reader, "failed-validation-httpcode", text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var status) && status is >= 100 and <= 599, "an HTTP status code");
        var message = reader.Value("failed-validation-error-message");
        var requireExpiration = CheckLiteral(reader, "require-expiration-time", text => bool.TryParse(text, out _), "true or false");
        var scheme = reader.Value("require-scheme");
        var requireSigned = CheckLiteral(reader, "require-signed-tokens", text => bool.TryParse(text, out _), "true or false");
        var clockSkew = CheckLiteral(reader, "clock-skew", text => int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out _), "a whole number of seconds");
        var output = reader.Literal("output-token-variable-name");

        var openIdConfigs = new List<string>();
        var signingKeys = new List<SecurityKey>();
        var decryptionKeys = new List<SecurityKey>();
        var audiences = new List<PolicyValue>();
        var issuers = new List<PolicyValue>();
        var claims = new List<JwtRequiredClaim>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in reader.Children("openid-config", "issuer-signing-keys", "decryption-keys", "audiences", "issuers", "required-claims"))
        {
            var name = child.Name.LocalName;
            var index = seen[name] = seen.GetValueOrDefault(name) + 1;
            var container = reader.Reader(child, index);
            if (index > 1 && name != "openid-config")
            {
                container.Error($"<{name}> appears twice inside <validate-jwt>");
            }

            switch (name)
            {
                case "openid-config":
                    if (container.Literal("url", required: true) is { } url)
                    {
                        openIdConfigs.Add(url);
                    }

                    container.Children();
                    break;
                case "issuer-signing-keys":
                case "decryption-keys":
                    var keys = container.Children("key");
                    for (var i = 0; i < keys.Count; i++)
                    {
                        if (Key(container.Reader(keys[i], i + 1), forSigning: name == "issuer-signing-keys") is { } key)
                        {
                            (name == "issuer-signing-keys" ? signingKeys : decryptionKeys).Add(key);
                        }
                    }

                    break;
                case "audiences":
                    audiences.AddRange(container.Children("audience").Select(a => container.TextValue(a)));
                    break;
                case "issuers":
                    issuers.AddRange(container.Children("issuer").Select(i => container.TextValue(i)));
                    break;
                default:
                    var claimElements = container.Children("claim");
                    for (var i = 0; i < claimElements.Count; i++)
                    {
                        if (Claim(container.Reader(claimElements[i], i + 1)) is { } claim)
                        {
                            claims.Add(claim);
                        }
                    }

                    break;
            }

            container.Finish();
        }

        var tokenSource = new JwtTokenSource(header, query, tokenValue, scheme);
        var requirements = new JwtRequirements(requireExpiration, requireSigned, clockSkew, openIdConfigs, signingKeys, decryptionKeys, audiences, issuers, claims);
        return new ValidateJwtPolicy(reader.Info, tokenSource, new JwtFailureResponse(code, message), requirements, output);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var token = ReadToken(context);
        if (string.IsNullOrEmpty(token))
        {
            throw Failure(context, "TokenNotPresent", TokenNotPresentMessage, TokenNotPresentMessage);
        }

        JsonWebToken parsed;
        try
        {
            parsed = new JsonWebToken(token);
        }
        catch (ArgumentException ex)
        {
            throw Failure(context, "JwtInvalid", Redact(ex.Message, token), InvalidTokenMessage);
        }

        var parameters = await ParametersAsync(context, string.IsNullOrEmpty(parsed.Kid) ? null : parsed.Kid);
        var result = await Handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            var keys = parameters.IssuerSigningKeys.ToList();
            var keyNotResolved = parsed.IsSigned && (keys.Count == 0 || (parsed.Kid is { Length: > 0 } kid && !keys.Any(k => string.Equals(k.KeyId, kid, StringComparison.Ordinal))));
            var (reason, detail) = Describe(result.Exception, keyNotResolved);
            throw Failure(context, reason, Redact(detail, token), InvalidTokenMessage);
        }

        var validated = (JsonWebToken)result.SecurityToken;
        CheckClaims(context, validated.InnerToken ?? validated);
        if (outputVariable is not null)
        {
            context.VariableStore[outputVariable] = Jwt.From(validated);
        }

        return PolicyFlow.Continue;
    }

    /// <summary>The token as the request carries it; for <c>Authorization</c>, the part after the scheme.</summary>
    private string? ReadToken(RequestContext context)
    {
        if (source.Value is { } value)
        {
            return value.EvaluateString(context, Name)?.Trim();
        }

        if (source.Query is { } query)
        {
            var name = query.EvaluateString(context, Name) ?? string.Empty;
            return context.Query.TryGetValue(name, out var values) ? values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim() : null;
        }

        var headerName = source.Header!.EvaluateString(context, Name) ?? string.Empty;
        if (!context.RequestHeaders.TryGetValue(headerName, out var headerValues) || headerValues.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim() is not { } raw)
        {
            return null;
        }

        if (!string.Equals(headerName, "Authorization", StringComparison.OrdinalIgnoreCase))
        {
            // API Management documents that require-scheme is ignored for any other header: the value is the token.
            return raw;
        }

        var space = raw.IndexOf(' ', StringComparison.Ordinal);
        var scheme = space < 0 ? null : raw[..space];
        if (source.RequireScheme?.EvaluateString(context, Name) is { Length: > 0 } required && !string.Equals(scheme, required, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return space < 0 ? raw : raw[(space + 1)..].Trim();
    }

    private async ValueTask<TokenValidationParameters> ParametersAsync(RequestContext context, string? keyId)
    {
        var signingKeys = new List<SecurityKey>(requirements.SigningKeys);
        var issuers = requirements.Issuers.Select(i => i.EvaluateString(context, Name) ?? string.Empty).ToList();
        foreach (var location in requirements.OpenIdConfigs)
        {
            var configuration = await context.Services.OpenIdConfigurations.GetAsync(location, context.Services.ApimPath, keyId, context.HttpContext.RequestAborted);
            signingKeys.AddRange(configuration.Keys);
            if (configuration.Issuer is { } issuer)
            {
                issuers.Add(issuer);
            }
        }

        var audiences = requirements.Audiences.Select(a => a.EvaluateString(context, Name) ?? string.Empty).ToList();
        var requireExpiration = Flag(context, requirements.RequireExpirationTime, "require-expiration-time", defaultValue: true);
        var skew = TimeSpan.FromSeconds(Number(context, requirements.ClockSkew, "clock-skew"));
        var now = context.Services.Time.GetUtcNow().UtcDateTime;
        return new TokenValidationParameters
        {
            IssuerSigningKeys = signingKeys,
            TokenDecryptionKeys = requirements.DecryptionKeys,
            RequireSignedTokens = Flag(context, requirements.RequireSignedTokens, "require-signed-tokens", defaultValue: true),
            ValidateIssuerSigningKey = false,
            ValidateAudience = audiences.Count > 0,
            ValidAudiences = audiences,
            ValidateIssuer = issuers.Count > 0,
            ValidIssuers = issuers,
            ValidateTokenReplay = false,

            // The library reads the system clock; the gateway's clock is injected, so lifetime is checked here.
            LifetimeValidator = (notBefore, expires, _, _) => CheckLifetime(now, skew, requireExpiration, notBefore, expires),
        };
    }

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
            SecurityTokenExpiredException => "TokenExpired",
            SecurityTokenInvalidAudienceException => "TokenAudienceNotAllowed",
            SecurityTokenInvalidIssuerException => "TokenIssuerNotAllowed",
            SecurityTokenInvalidSignatureException when keyNotResolved => "TokenSignatureKeyNotFound",
            SecurityTokenInvalidSignatureException => "TokenSignatureInvalid",
            _ => "JwtInvalid",
        };
        var message = exception?.Message ?? "The token is not valid.";
        return (reason, reason == "JwtInvalid" ? message : message.TrimEnd(' ', '.') + ". Access denied.");
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

    private void CheckClaims(RequestContext context, JsonWebToken token)
    {
        if (requirements.Claims.Count == 0)
        {
            return;
        }

        var present = token.Claims.GroupBy(c => c.Type, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(c => c.Value).ToArray(), StringComparer.Ordinal);
        var missing = requirements.Claims.Where(c => !present.ContainsKey(c.Name)).Select(c => c.Name).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw Failure(context, "TokenClaimNotFound", $"JWT token is missing the following claims: {string.Join(", ", missing)}. Access denied.", InvalidTokenMessage);
        }

        foreach (var claim in requirements.Claims.Where(c => c.Values.Count > 0))
        {
            var values = present[claim.Name];
            var actual = claim.Separator is null
                ? values
                : values.SelectMany(v => v.Split(claim.Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
            var expected = claim.Values.Select(v => v.EvaluateString(context, Name) ?? string.Empty).ToList();
            var matched = claim.MatchAll
                ? expected.All(e => actual.Contains(e, StringComparer.Ordinal))
                : expected.Any(e => actual.Contains(e, StringComparer.Ordinal));
            if (!matched)
            {
                throw Failure(context, "TokenClaimValueNotAllowed", $"Claim {claim.Name} value of {string.Join(",", values)} is not allowed. Access denied.", InvalidTokenMessage);
            }
        }
    }

    private PolicyExecutionException Failure(RequestContext context, string reason, string detail, string defaultMessage)
    {
        var status = int.TryParse(failure.Code?.EvaluateString(context, Name), NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 100 and <= 599
            ? parsed
            : StatusCodes.Status401Unauthorized;
        var text = failure.Message?.EvaluateString(context, Name) ?? defaultMessage;
        return new PolicyExecutionException(Name, reason, detail)
        {
            Response = ResponseState.Json(status, ReasonPhrases.GetReasonPhrase(status), $$"""{"statusCode": {{status}}, "message": {{JsonSerializer.Serialize(text)}}}"""),
        };
    }

    private bool Flag(RequestContext context, PolicyValue? value, string attribute, bool defaultValue) => value?.Evaluate(context, Name) switch
    {
        null => defaultValue,
        bool flag => flag,
        string text when bool.TryParse(text, out var flag) => flag,
        var other => throw new PolicyExecutionException(Name, "ExpressionValueEvaluationFailure", $"{attribute} must be true or false, not '{other}'."),
    };

    private int Number(RequestContext context, PolicyValue? value, string attribute)
    {
        var text = value?.EvaluateString(context, Name);
        return text is null ? 0
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
            : throw new PolicyExecutionException(Name, "ExpressionValueEvaluationFailure", $"{attribute} must be a whole number of seconds, not '{text}'.");
    }

    /// <summary>An attribute that may be an expression; a literal is checked when the policy loads.</summary>
    private static PolicyValue? CheckLiteral(ElementReader reader, string name, Func<string, bool> valid, string expected)
    {
        var value = reader.Value(name);
        if (value is { IsExpression: false } && !valid(value.ToString()))
        {
            reader.Error($"attribute '{name}' of <validate-jwt> must be {expected}, not '{value}'");
        }

        return value;
    }

    /// <summary>A <c>key</c>: base64 text (a symmetric key) or <c>n</c> and <c>e</c> (an RSA public key, base64url).</summary>
    private static SecurityKey? Key(ElementReader key, bool forSigning)
    {
        // Never null: the library compares every key's id with the token's kid and fails on a null one.
        var id = key.Literal("id") ?? string.Empty;
        key.Refuse("certificate-id", reason: "uploaded certificates are not modelled locally; give the public key as n and e");
        var modulus = key.Literal("n");
        var exponent = key.Literal("e");
        key.Children();
        key.Finish();

        // Never echo the key text in a message: it is a secret.
        var text = string.Concat(key.Element.Nodes().OfType<XText>().Select(t => t.Value)).Trim();
        if (PolicyParser.IsExpression(text))
        {
            key.Error("<key> does not accept policy expressions (a named value such as {{jwt-signing-key}} does)");
            return null;
        }

        if (modulus is not null || exponent is not null)
        {
            if (!forSigning)
            {
                key.Error("a decryption key must be a base64 symmetric key: an RSA public key (n and e) cannot decrypt");
                return null;
            }

            if (modulus is null || exponent is null || text.Length > 0)
            {
                key.Error("<key> takes either base64 text or both 'n' and 'e'");
                return null;
            }

            try
            {
                // From an RSA instance: the library's failure path dereferences the key's Rsa, which a key built from bare
                // parameters lacks. The instance lives as long as the policy document.
                var rsa = RSA.Create(new RSAParameters { Modulus = Base64UrlEncoder.DecodeBytes(modulus), Exponent = Base64UrlEncoder.DecodeBytes(exponent) });
                return new RsaSecurityKey(rsa) { KeyId = id };
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or CryptographicException)
            {
                key.Error("'n' and 'e' of <key> must be the base64url modulus and exponent of an RSA public key");
                return null;
            }
        }

        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            key.Error("<key> must hold a base64-encoded key (or 'n' and 'e')");
            return null;
        }

        if (bytes.Length == 0)
        {
            key.Error("<key> must hold a base64-encoded key (or 'n' and 'e')");
            return null;
        }

        return new SymmetricSecurityKey(forSigning ? SigningKey(bytes) : bytes) { KeyId = id };
    }

    /// <summary>
    /// API Management accepts HMAC keys shorter than the 256 bits the JWT library insists on. HMAC pads a short key with
    /// zeros to its block size (64 or 128 bytes), so the key padded to 32 bytes computes the very same signatures.
    /// </summary>
    private static byte[] SigningKey(byte[] bytes)
    {
        if (bytes.Length >= MinimumHmacKeyBytes)
        {
            return bytes;
        }

        var padded = new byte[MinimumHmacKeyBytes];
        bytes.CopyTo(padded, 0);
        return padded;
    }

    private static JwtRequiredClaim? Claim(ElementReader claim)
    {
        var name = claim.Literal("name", required: true);
        var match = claim.Literal("match") ?? "all";
        if (match is not ("all" or "any"))
        {
            claim.Error($"attribute 'match' of <claim> must be all or any, not '{match}'");
        }

        var separator = claim.Literal("separator");
        var values = claim.Children("value").Select(v => claim.TextValue(v)).ToList();
        claim.Finish();
        return name is null ? null : new JwtRequiredClaim(name, match != "any", string.IsNullOrEmpty(separator) ? null : separator, values);
    }
}

/// <summary>Where <c>validate-jwt</c> finds the token: exactly one of a header, a query parameter or a value.</summary>
internal sealed record JwtTokenSource(PolicyValue? Header, PolicyValue? Query, PolicyValue? Value, PolicyValue? RequireScheme);

/// <summary>The status and message <c>validate-jwt</c> answers with; null means API Management's default.</summary>
internal sealed record JwtFailureResponse(PolicyValue? Code, PolicyValue? Message);

/// <summary>What a token must satisfy; keys were read when the policy loaded.</summary>
internal sealed record JwtRequirements(
    PolicyValue? RequireExpirationTime,
    PolicyValue? RequireSignedTokens,
    PolicyValue? ClockSkew,
    IReadOnlyList<string> OpenIdConfigs,
    IReadOnlyList<SecurityKey> SigningKeys,
    IReadOnlyList<SecurityKey> DecryptionKeys,
    IReadOnlyList<PolicyValue> Audiences,
    IReadOnlyList<PolicyValue> Issuers,
    IReadOnlyList<JwtRequiredClaim> Claims);

/// <summary>A <c>claim</c> of <c>required-claims</c>: it must be present and, with values, hold all or any of them.</summary>
internal sealed record JwtRequiredClaim(string Name, bool MatchAll, string? Separator, IReadOnlyList<PolicyValue> Values);
