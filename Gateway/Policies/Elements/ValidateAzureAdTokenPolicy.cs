using System.Text.RegularExpressions;
using Gateway.Expressions;
using Gateway.Pipeline;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>validate-azure-ad-token</c>: the request must carry an access token Microsoft Entra ID issued in the tenant
/// <c>tenant-id</c>, v1 (<c>https://sts.windows.net/{tenant}/</c>) or v2 (<c>https://login.microsoftonline.com/{tenant}/v2.0</c>),
/// signed with the tenant's keys, unexpired, for one of the <c>audiences</c> (or <c>backend-application-ids</c>), held by
/// one of the <c>client-application-ids</c> (<c>appid</c> in v1 tokens, <c>azp</c> in v2), with the <c>required-claims</c>.
/// The tenant's issuers and keys come from its two OpenID configuration documents under <c>authentication-endpoint</c>
/// (default <c>https://login.microsoftonline.com</c>), or under <c>Identity:EntraAuthority</c> when the gateway is pointed
/// at another tenant host (the local one). Failures go to on-error with <c>validate-jwt</c>'s reasons, plus
/// TokenClientApplicationNotAllowed; unless on-error answers, the caller gets <c>failed-validation-httpcode</c> (401) with
/// <c>{"statusCode": 401, "message": "Azure AD JWT not present"}</c> or <c>"Invalid Azure AD JWT"</c>.
/// </summary>
internal sealed partial class ValidateAzureAdTokenPolicy(ElementInfo info, JwtTokenSource source, JwtFailureResponse failure, AzureAdTokenRequirements requirements, string? outputVariable)
    : PolicyElement(info)
{
    /// <summary>The caller's message when the token is missing and the policy sets none (observed API Management text).</summary>
    public const string TokenNotPresentMessage = "Azure AD JWT not present";

    /// <summary>The caller's message for any other failure when the policy sets none (observed API Management text).</summary>
    public const string InvalidTokenMessage = "Invalid Azure AD JWT";

    /// <summary>Entra ID's public cloud, where tenants' documents are read unless the policy or the configuration says otherwise.</summary>
    public const string DefaultAuthenticationEndpoint = "https://login.microsoftonline.com";

    private const string ElementName = "validate-azure-ad-token";

    public static PolicyElement? Parse(ElementReader reader)
    {
        var tenant = reader.Value("tenant-id", required: true);
        if (tenant is { IsExpression: false } && TenantOf(tenant.ToString()) is null)
        {
            reader.Error($"attribute 'tenant-id' of <{ElementName}> must be a tenant ID, a domain name or a URL such as https://contoso.onmicrosoft.com, not '{tenant}'");
        }

        var header = reader.Value("header-name");
        var query = reader.Value("query-parameter-name");
        var tokenValue = reader.Value("token-value");
        if (new[] { header, query, tokenValue }.Count(s => s is not null) > 1)
        {
            reader.Error($"<{ElementName}> takes at most one of 'header-name', 'query-parameter-name' and 'token-value' (none reads the Authorization header)");
        }

        var endpoint = reader.Literal("authentication-endpoint");
        if (endpoint is not null && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var endpointUri) && endpointUri.Scheme is "https" or "http" && endpointUri.Query.Length == 0))
        {
            reader.Error($"attribute 'authentication-endpoint' of <{ElementName}> must be an absolute http(s) URL such as {DefaultAuthenticationEndpoint}, not '{endpoint}'");
        }

        var code = JwtFailureResponse.ReadCode(reader);
        var message = reader.Value("failed-validation-error-message");
        var output = reader.Literal("output-token-variable-name");

        var backendIds = new List<string>();
        var clientIds = new List<string>();
        var audiences = new List<PolicyValue>();
        var claims = new List<JwtRequiredClaim>();
        var decryptionKeys = new List<SecurityKey>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var child in reader.Children("backend-application-ids", "client-application-ids", "audiences", "required-claims", "decryption-keys"))
        {
            var name = child.Name.LocalName;
            var container = reader.Reader(child, ++index);
            if (!seen.Add(name))
            {
                container.Error($"<{name}> appears twice inside <{ElementName}>");
            }

            switch (name)
            {
                case "backend-application-ids":
                    backendIds.AddRange(ApplicationIds(container));
                    break;
                case "client-application-ids":
                    clientIds.AddRange(ApplicationIds(container));
                    break;
                case "audiences":
                    audiences.AddRange(container.Children("audience").Select(a => container.TextValue(a)));
                    break;
                case "required-claims":
                    claims.AddRange(JwtRequiredClaim.ParseAll(container));
                    break;
                default:
                    decryptionKeys.AddRange(JwtKeys.ParseAll(container, forSigning: false));
                    break;
            }

            container.Finish();
        }

        if (clientIds.Count == 0 && audiences.Count == 0 && backendIds.Count == 0)
        {
            // The reference: "If a client application ID isn't provided, one or more audience claims should be specified."
            // Without either, any token of the tenant for any application would pass.
            reader.Error($"<{ElementName}> needs <client-application-ids> with an <application-id>, or <audiences> with an <audience>");
        }

        var requirements = new AzureAdTokenRequirements(tenant!, endpoint?.TrimEnd('/'), backendIds, clientIds, audiences, claims, decryptionKeys);
        return tenant is null ? null : new ValidateAzureAdTokenPolicy(reader.Info, new JwtTokenSource(header, query, tokenValue, null), new JwtFailureResponse(code, message), requirements, output);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var token = source.Read(context, Name, defaultHeader: "Authorization");
        if (string.IsNullOrEmpty(token))
        {
            throw failure.Failure(context, Name, ErrorReasons.TokenNotPresent, TokenNotPresentMessage, TokenNotPresentMessage);
        }

        PolicyExecutionException Invalid(string reason, string detail) => failure.Failure(context, Name, reason, detail, InvalidTokenMessage);
        var parsed = JwtValidator.Parse(token, Invalid);
        var parameters = await ParametersAsync(context, string.IsNullOrEmpty(parsed.Kid) ? null : parsed.Kid);
        var validated = await JwtValidator.ValidateAsync(token, parsed, parameters, Invalid);
        var claims = validated.InnerToken ?? validated;
        CheckClientApplication(claims, Invalid);
        JwtRequiredClaim.Check(requirements.Claims, context, Name, claims, Invalid);
        if (outputVariable is not null)
        {
            context.VariableStore[outputVariable] = Jwt.From(validated);
        }

        return PolicyFlow.Continue;
    }

    /// <summary>
    /// The tenant's issuers and keys, from its v2 and v1 OpenID configuration documents (the same keys, one issuer each),
    /// through the cache <c>validate-jwt</c>'s <c>openid-config</c> uses.
    /// </summary>
    private async ValueTask<TokenValidationParameters> ParametersAsync(RequestContext context, string? keyId)
    {
        var text = requirements.Tenant.EvaluateString(context, Name) ?? string.Empty;
        var tenant = TenantOf(text)
            ?? throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"tenant-id must be a tenant ID, a domain name or a URL, not '{text}'.");
        var authority = context.Services.EntraAuthority ?? requirements.AuthenticationEndpoint ?? DefaultAuthenticationEndpoint;
        var keys = new List<SecurityKey>();
        var issuers = new List<string>();
        foreach (var location in new[] { $"{authority}/{tenant}/v2.0/.well-known/openid-configuration", $"{authority}/{tenant}/.well-known/openid-configuration" })
        {
            var configuration = await context.Services.OpenIdConfigurations.GetAsync(location, context.Services.ApimPath, keyId, context.HttpContext.RequestAborted);
            keys.AddRange(configuration.Keys);
            if (configuration.Issuer is { } issuer)
            {
                issuers.Add(issuer);
            }
        }

        // A backend application is the resource the token is for: its id is an audience, as is its default App ID URI.
        var audiences = requirements.Audiences.Select(a => a.EvaluateString(context, Name) ?? string.Empty)
            .Concat(requirements.BackendApplicationIds.SelectMany(id => new[] { id, "api://" + id }))
            .ToList();
        return new TokenValidationParameters
        {
            IssuerSigningKeys = keys,
            TokenDecryptionKeys = requirements.DecryptionKeys,
            RequireSignedTokens = true,
            ValidateIssuerSigningKey = false,
            ValidateAudience = audiences.Count > 0,
            ValidAudiences = audiences,

            // Always: with no document read, no issuer is valid and every token fails.
            ValidateIssuer = true,
            ValidIssuers = issuers,
            ValidateTokenReplay = false,
            LifetimeValidator = JwtValidator.Lifetime(context.Services.Time.GetUtcNow().UtcDateTime, TimeSpan.Zero, requireExpiration: true),
        };
    }

    /// <summary>The client application, <c>appid</c> in v1 tokens and <c>azp</c> in v2 ones, must be one of the allowed.</summary>
    private void CheckClientApplication(JsonWebToken token, Func<string, string, PolicyExecutionException> invalid)
    {
        if (requirements.ClientApplicationIds.Count == 0)
        {
            return;
        }

        var version = token.TryGetPayloadValue<string>("ver", out var ver) ? ver : null;
        var claim = version == "2.0" ? "azp" : version == "1.0" ? "appid" : token.TryGetPayloadValue<string>("azp", out _) ? "azp" : "appid";
        var client = token.TryGetPayloadValue<string>(claim, out var id) ? id : null;
        if (client is null || !requirements.ClientApplicationIds.Contains(client, StringComparer.OrdinalIgnoreCase))
        {
            throw invalid(ErrorReasons.TokenClientApplicationNotAllowed, client is null
                ? $"The token has no {claim} claim naming its client application. Access denied."
                : $"Client application {client} is not allowed. Access denied.");
        }
    }

    /// <summary>The tenant as a path segment (a GUID or a domain name; a URL gives its host), or null when it is neither.</summary>
    private static string? TenantOf(string text)
    {
        text = text.Trim();
        if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
        {
            text = uri.Host;
        }

        return TenantPattern().IsMatch(text) ? text : null;
    }

    /// <summary>The text of each <c>application-id</c>: no expressions (the reference), a named value is fine.</summary>
    private static IEnumerable<string> ApplicationIds(ElementReader container)
    {
        foreach (var element in container.Children("application-id"))
        {
            var value = container.TextValue(element);
            if (value.IsExpression)
            {
                container.Error($"<application-id> inside <{container.Info.Name}> does not accept policy expressions (a named value such as {{{{client-app-id}}}} does)");
                continue;
            }

            var id = value.ToString().Trim();
            if (id.Length == 0)
            {
                container.Error($"<application-id> inside <{container.Info.Name}> is empty");
                continue;
            }

            yield return id;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex TenantPattern();
}

/// <summary>What an Entra ID token must satisfy besides its signature and lifetime; keys were read when the policy loaded.</summary>
internal sealed record AzureAdTokenRequirements(
    PolicyValue Tenant,
    string? AuthenticationEndpoint,
    IReadOnlyList<string> BackendApplicationIds,
    IReadOnlyList<string> ClientApplicationIds,
    IReadOnlyList<PolicyValue> Audiences,
    IReadOnlyList<JwtRequiredClaim> Claims,
    IReadOnlyList<SecurityKey> DecryptionKeys);
