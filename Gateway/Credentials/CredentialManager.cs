using System.Collections.ObjectModel;
using Gateway.Apim;
using Gateway.Expressions;
using Gateway.Policies;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Credentials;

/// <summary>
/// API Management's credential manager as configuration stands in for it: the connections of
/// <c>Apim:Connections:&lt;provider-id&gt;:&lt;authorization-id&gt;</c> (ids compared without case, as Azure resource names
/// are), each with a fixed access token. The gateway's managed identity may use every connection; a <c>jwt</c> identity
/// only a connection whose access policies name its <c>oid</c> and <c>tid</c>. The identity token's signature is not
/// checked: there are no Microsoft Entra keys to check it with locally; its audience, lifetime and ids are.
/// Messages name providers, connections and object ids, never a token.
/// </summary>
internal sealed class CredentialManager
{
    /// <summary>The audience the reference expects of a <c>jwt</c> identity, and its Azure China twin.</summary>
    public static readonly IReadOnlyList<string> IdentityAudiences = ["https://azure-api.net/authorization-manager", "https://azure-api.cn/authorization-manager"];

    private readonly Dictionary<string, Dictionary<string, Connection>> _providers;
    private readonly TimeProvider _time;

    public CredentialManager(IOptions<ApimOptions> options, TimeProvider time)
    {
        _time = time;
        _providers = new(StringComparer.OrdinalIgnoreCase);
        foreach (var (provider, connections) in options.Value.Connections)
        {
            var byId = new Dictionary<string, Connection>(StringComparer.OrdinalIgnoreCase);
            foreach (var (id, connection) in connections)
            {
                byId[id] = new Connection(
                    string.IsNullOrEmpty(connection.AccessToken) ? null : new Authorization(connection.AccessToken, Claims(connection.Claims)),
                    string.IsNullOrWhiteSpace(connection.Error) ? null : connection.Error,
                    [.. connection.AccessPolicies.Select(p => (p.ObjectId ?? string.Empty, p.TenantId ?? string.Empty))]);
            }

            _providers[provider] = byId;
        }
    }

    /// <summary>The connection's authorization, if <paramref name="identityType"/> (with <paramref name="identity"/> for jwt) may use it.</summary>
    /// <exception cref="CredentialManagerException">Not found, in an error state, or not permitted.</exception>
    public Authorization Acquire(string providerId, string authorizationId, ConnectionIdentityType identityType, string? identity)
    {
        var name = $"connection '{authorizationId}' of credential provider '{providerId}'";
        if (!_providers.TryGetValue(providerId, out var connections) || !connections.TryGetValue(authorizationId, out var connection))
        {
            throw new CredentialManagerException(ErrorReasons.ConnectionNotFound, $"The {name} was not found.");
        }

        if (identityType == ConnectionIdentityType.Jwt)
        {
            CheckIdentity(connection, name, identity);
        }

        if (connection.Error is not null || connection.Authorization is null)
        {
            throw new CredentialManagerException(ErrorReasons.ConnectionError, $"The {name} is in an error state: {connection.Error ?? "no access token"}.");
        }

        return connection.Authorization;
    }

    private void CheckIdentity(Connection connection, string name, string? identity)
    {
        if (string.IsNullOrWhiteSpace(identity))
        {
            throw Denied(name, "identity-type is jwt and no identity token was given");
        }

        JsonWebToken token;
        try
        {
            token = new JsonWebToken(identity.Trim());
        }
        catch (ArgumentException)
        {
            throw Denied(name, "the identity is not a well-formed JWT");
        }

        if (!token.Audiences.Any(a => IdentityAudiences.Contains(a, StringComparer.OrdinalIgnoreCase)))
        {
            throw Denied(name, $"the identity token's audience is not {IdentityAudiences[0]}");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (token.ValidTo == DateTime.MinValue || token.ValidTo <= now)
        {
            throw Denied(name, "the identity token has no expiry or has expired");
        }

        if (token.ValidFrom > now)
        {
            throw Denied(name, "the identity token is not valid yet");
        }

        var objectId = token.TryGetPayloadValue<string>("oid", out var oid) ? oid : null;
        var tenantId = token.TryGetPayloadValue<string>("tid", out var tid) ? tid : null;
        if (string.IsNullOrEmpty(objectId) || string.IsNullOrEmpty(tenantId))
        {
            throw Denied(name, "the identity token has no oid or no tid claim");
        }

        if (!connection.AccessPolicies.Any(p => string.Equals(p.ObjectId, objectId, StringComparison.OrdinalIgnoreCase) && string.Equals(p.TenantId, tenantId, StringComparison.OrdinalIgnoreCase)))
        {
            throw Denied(name, $"no access policy names object '{objectId}' of tenant '{tenantId}'");
        }
    }

    // The opening words are those API Management answers a jwt identity without an access policy with
    // (MicrosoftDocs/azure-docs#118507); the rest is ours.
    private static CredentialManagerException Denied(string name, string why) =>
        new(ErrorReasons.PermissionDenied, $"Permission denied. Double check that the access policy of the {name} allows the identity: {why}.");

    private static ReadOnlyDictionary<string, object> Claims(Dictionary<string, string> claims) =>
        new(claims.ToDictionary(c => c.Key, c => (object)c.Value, StringComparer.Ordinal));

    /// <summary>One connection: its authorization (null without a token), its error state, its access policies.</summary>
    private sealed record Connection(Authorization? Authorization, string? Error, IReadOnlyList<(string ObjectId, string TenantId)> AccessPolicies);
}
