using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Identity;

/// <summary>
/// What <c>POST /_gateway/admin/entra/tokens</c> mints: a token for <see cref="Audience"/> held by the client application
/// <see cref="ClientId"/>, an app token (client credentials) unless a <see cref="User"/> signs in.
/// </summary>
/// <param name="ClientId">The client application's id: <c>appid</c> (v1) or <c>azp</c> (v2).</param>
/// <param name="Audience">The <c>aud</c>: the resource's application id or App ID URI (<c>api://...</c>).</param>
/// <param name="Tenant">The tenant; <c>LocalIdentity:TenantId</c> when null.</param>
/// <param name="Version">1 (the default, as for a resource whose manifest leaves <c>accessTokenAcceptedVersion</c> unset) or 2.</param>
/// <param name="User">The signed-in user of a delegated token.</param>
/// <param name="Scopes">The <c>scp</c> of a user token (default <c>user_impersonation</c>).</param>
/// <param name="Roles">The <c>roles</c> (app roles granted to the client or the user).</param>
/// <param name="Claims">More claims, strings or arrays of strings; they replace computed ones of the same name.</param>
internal sealed record LocalEntraTokenRequest(
    string? ClientId,
    string? Audience,
    Guid? Tenant = null,
    int Version = 1,
    LocalEntraUser? User = null,
    IReadOnlyList<string>? Scopes = null,
    IReadOnlyList<string>? Roles = null,
    IReadOnlyDictionary<string, JsonElement>? Claims = null)
{
    /// <summary>Claims the token's own fields set, which <see cref="Claims"/> may not.</summary>
    public static readonly IReadOnlySet<string> ReservedClaims = new HashSet<string>(StringComparer.Ordinal) { "iss", "aud", "iat", "nbf", "exp" };

    /// <summary>What is wrong with the request, or null.</summary>
    public string? Problem() =>
        string.IsNullOrWhiteSpace(ClientId) ? "'clientId' is required: the client application's id (appid in v1 tokens, azp in v2)."
        : string.IsNullOrWhiteSpace(Audience) ? "'audience' is required: the resource's application id or App ID URI."
        : Version is not (1 or 2) ? $"'version' must be 1 or 2, not {Version}."
        : Claims?.Keys.FirstOrDefault(ReservedClaims.Contains) is { } reserved ? $"'claims' may not set '{reserved}'; use 'audience' or 'tenant', or let the issuer set it."
        : Claims?.FirstOrDefault(c => !IsStringOrStrings(c.Value)) is { Key: { } bad } ? $"claim '{bad}' must be a string or an array of strings."
        : null;

    private static bool IsStringOrStrings(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => true,
        JsonValueKind.Array => value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String),
        _ => false,
    };
}

/// <summary>The user of a delegated token: <c>oid</c> (derived from the name when null), <c>name</c>, and <c>upn</c> (v1) or <c>preferred_username</c> (v2).</summary>
internal sealed record LocalEntraUser(
    string? ObjectId = null,
    string? Name = null,
    [property: JsonPropertyName("upn")] string? UserPrincipalName = null);
