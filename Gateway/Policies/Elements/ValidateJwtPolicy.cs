using System.Globalization;
using Gateway.Expressions;
using Gateway.Pipeline;
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

    public static PolicyElement? Parse(ElementReader reader)
    {
        var header = reader.Value("header-name");
        var query = reader.Value("query-parameter-name");
        var tokenValue = reader.Value("token-value");
        if (new[] { header, query, tokenValue }.Count(s => s is not null) != 1)
        {
            reader.Error("<validate-jwt> takes exactly one of 'header-name', 'query-parameter-name' and 'token-value'");
        }

        var code = JwtFailureResponse.ReadCode(reader);
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
                    signingKeys.AddRange(JwtKeys.ParseAll(container, forSigning: true));
                    break;
                case "decryption-keys":
                    decryptionKeys.AddRange(JwtKeys.ParseAll(container, forSigning: false));
                    break;
                case "audiences":
                    audiences.AddRange(container.Children("audience").Select(a => container.TextValue(a)));
                    break;
                case "issuers":
                    issuers.AddRange(container.Children("issuer").Select(i => container.TextValue(i)));
                    break;
                default:
                    claims.AddRange(JwtRequiredClaim.ParseAll(container));
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
        var token = source.Read(context, Name);
        if (string.IsNullOrEmpty(token))
        {
            throw failure.Failure(context, Name, ErrorReasons.TokenNotPresent, TokenNotPresentMessage, TokenNotPresentMessage);
        }

        PolicyExecutionException Invalid(string reason, string detail) => failure.Failure(context, Name, reason, detail, InvalidTokenMessage);
        var parsed = JwtValidator.Parse(token, Invalid);
        var parameters = await ParametersAsync(context, string.IsNullOrEmpty(parsed.Kid) ? null : parsed.Kid);
        var validated = await JwtValidator.ValidateAsync(token, parsed, parameters, Invalid);
        JwtRequiredClaim.Check(requirements.Claims, context, Name, validated.InnerToken ?? validated, Invalid);
        if (outputVariable is not null)
        {
            context.VariableStore[outputVariable] = Jwt.From(validated);
        }

        return PolicyFlow.Continue;
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
            LifetimeValidator = JwtValidator.Lifetime(now, skew, requireExpiration),
        };
    }

    private bool Flag(RequestContext context, PolicyValue? value, string attribute, bool defaultValue) => value?.Evaluate(context, Name) switch
    {
        null => defaultValue,
        bool flag => flag,
        string text when bool.TryParse(text, out var flag) => flag,
        var other => throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"{attribute} must be true or false, not '{other}'."),
    };

    private int Number(RequestContext context, PolicyValue? value, string attribute)
    {
        var text = value?.EvaluateString(context, Name);
        return text is null ? 0
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
            : throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"{attribute} must be a whole number of seconds, not '{text}'.");
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
}

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
