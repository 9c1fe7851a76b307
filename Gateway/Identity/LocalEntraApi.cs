using Gateway.Admin;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Identity;

/// <summary>
/// The local Entra tenant's endpoints (<see cref="LocalEntraIssuer"/>), when a local signing key is configured. Public,
/// as Entra ID's are: <c>{Authority}/{tenant}/.well-known/openid-configuration</c> (v1),
/// <c>{Authority}/{tenant}/v2.0/.well-known/openid-configuration</c> (v2) and their key sets
/// (<c>/discovery/keys</c>, <c>/discovery/v2.0/keys</c>), for any tenant GUID. Behind the admin key only:
/// <c>POST /_gateway/admin/entra/tokens</c>, which mints tokens (<see cref="LocalEntraTokenRequest"/>), so the gateway is
/// no open token mint to whoever reaches it.
/// </summary>
internal static partial class LocalEntraApi
{
    /// <summary>What <c>Identity:EntraAuthority</c> names, after the gateway's own URL, to use this tenant.</summary>
    public const string Authority = AdminApi.Prefix + "/entra";

    /// <summary>Where tokens are minted.</summary>
    public const string TokensPath = AdminApi.Prefix + "/admin/entra/tokens";

    public static WebApplication MapLocalEntra(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Identity");
        if (!app.Services.GetRequiredService<IOptions<LocalIdentityOptions>>().Value.HasSigningKey)
        {
            Log.Disabled(logger);
            return app;
        }

        var tenant = app.MapGroup(Authority + "/{tenant}");
        tenant.MapGet("/.well-known/openid-configuration", (string tenant, HttpRequest request) => Configuration(tenant, 1, request, "/discovery/keys"));
        tenant.MapGet("/v2.0/.well-known/openid-configuration", (string tenant, HttpRequest request) => Configuration(tenant, 2, request, "/discovery/v2.0/keys"));
        tenant.MapGet("/discovery/keys", KeySet);
        tenant.MapGet("/discovery/v2.0/keys", KeySet);
        var admin = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled;
        if (admin)
        {
            app.MapPost(TokensPath, Mint).AddEndpointFilter<AdminKeyFilter>();
        }

        Log.Enabled(logger, Authority, admin ? TokensPath : "off (no Gateway:AdminKey)");
        return app;
    }

    private static Results<ContentHttpResult, JsonHttpResult<TenantError>> Configuration(string tenant, int version, HttpRequest request, string keysPath)
    {
        if (!Guid.TryParse(tenant, out var id))
        {
            return InvalidTenant(tenant);
        }

        var jwksUri = $"{request.Scheme}://{request.Host}{request.PathBase}{Authority}/{id:D}{keysPath}";
        return TypedResults.Text(LocalEntraIssuer.Configuration(id, version, jwksUri), "application/json");
    }

    private static Results<ContentHttpResult, JsonHttpResult<TenantError>> KeySet(string tenant, [FromServices] LocalEntraIssuer issuer) =>
        Guid.TryParse(tenant, out _) ? TypedResults.Text(issuer.KeySet(), "application/json") : InvalidTenant(tenant);

    /// <summary>Entra ID's answer for a tenant it does not know; locally, a tenant is a GUID (domain names are not resolved).</summary>
    private static JsonHttpResult<TenantError> InvalidTenant(string tenant) => TypedResults.Json(
        new TenantError("invalid_tenant", $"AADSTS90002: Tenant '{tenant}' not found. The local Entra tenant knows tenants by GUID only.", [90002]),
        statusCode: StatusCodes.Status400BadRequest);

    private static Results<Ok<MintedToken>, BadRequest<AdminError>> Mint([FromBody] LocalEntraTokenRequest request, [FromServices] LocalEntraIssuer issuer, [FromServices] TimeProvider time, [FromServices] ILoggerFactory loggers)
    {
        if (request.Problem() is { } problem)
        {
            return TypedResults.BadRequest(new AdminError(StatusCodes.Status400BadRequest, problem));
        }

        var token = issuer.Mint(request);
        var seconds = (int)(token.ExpiresOn - time.GetUtcNow()).TotalSeconds;
        Log.Minted(loggers.CreateLogger("Gateway.Identity"), request.User is null ? "app" : "user", request.Version, request.ClientId!, request.Audience!, request.Tenant ?? issuer.DefaultTenant);
        return TypedResults.Ok(new MintedToken("Bearer", seconds, seconds, token.Token));
    }

    /// <summary>Entra ID's error body (<c>error</c>, <c>error_description</c>, <c>error_codes</c>).</summary>
    internal sealed record TenantError(
        [property: System.Text.Json.Serialization.JsonPropertyName("error")] string Error,
        [property: System.Text.Json.Serialization.JsonPropertyName("error_description")] string Description,
        [property: System.Text.Json.Serialization.JsonPropertyName("error_codes")] IReadOnlyList<int> Codes);

    /// <summary>The token response, in the shape of Entra ID's token endpoint.</summary>
    internal sealed record MintedToken(
        [property: System.Text.Json.Serialization.JsonPropertyName("token_type")] string TokenType,
        [property: System.Text.Json.Serialization.JsonPropertyName("expires_in")] int ExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("ext_expires_in")] int ExtExpiresIn,
        [property: System.Text.Json.Serialization.JsonPropertyName("access_token")] string AccessToken);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.LocalEntraEnabled, LogLevel.Information, "Local Entra tenant at {Path}/{{tenant}}; tokens minted at {Tokens}")]
        public static partial void Enabled(ILogger logger, string path, string tokens);

        [LoggerMessage(LogEvents.LocalEntraDisabled, LogLevel.Debug, "No local signing key: no local Entra tenant")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(LogEvents.LocalTokenMinted, LogLevel.Information, "Minted a v{Version} {Kind} token for client {ClientId}, audience {Audience}, tenant {Tenant}")]
        public static partial void Minted(ILogger logger, string kind, int version, string clientId, string audience, Guid tenant);
    }
}
