using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Identity;

namespace Gateway.Backends;

/// <summary>
/// What a single backend adds to every request the gateway sends it (its topology entry's <c>credentials</c>), named
/// values already substituted: headers, query parameters, and an <c>Authorization</c> header from a scheme and parameter
/// or from the gateway's managed identity. They are applied as the request leaves, after the policy, so they replace
/// a header or query parameter of the same name the client or the policy set (docs/fidelity.md).
/// </summary>
internal sealed class BackendCredentials
{
    private const string AuthorizationHeader = "Authorization";

    private readonly KeyValuePair<string, string[]>[] _headers;
    private readonly KeyValuePair<string, string[]>[] _query;
    private readonly string? _authorization;
    private readonly ManagedIdentityCredentialDefinition? _identity;

    private BackendCredentials(KeyValuePair<string, string[]>[] headers, KeyValuePair<string, string[]>[] query, string? authorization, ManagedIdentityCredentialDefinition? identity)
    {
        _headers = headers;
        _query = query;
        _authorization = authorization;
        _identity = identity;
    }

    public bool HasQuery => _query.Length > 0;

    /// <summary>The credentials of <paramref name="definition"/>, or null when it adds nothing.</summary>
    public static BackendCredentials? From(BackendCredentialsDefinition? definition, NamedValues namedValues, string backendId)
    {
        if (definition is null)
        {
            return null;
        }

        var source = $"{Topology.FileName} (backend '{backendId}' credentials)";
        string Value(string text)
        {
            var value = namedValues.Substitute(text, source);
            return value.AsSpan().ContainsAny('\r', '\n')
                ? throw new ApimArtifactException(Topology.FileName, $"backend '{backendId}': a credentials value contains a line break")
                : value;
        }

        KeyValuePair<string, string[]>[] Resolve(IReadOnlyDictionary<string, IReadOnlyList<string>>? entries) =>
            (entries ?? new Dictionary<string, IReadOnlyList<string>>())
                .Select(e => KeyValuePair.Create(e.Key, e.Value.Select(Value).ToArray()))
                .ToArray();

        var headers = Resolve(definition.Header);
        var query = Resolve(definition.Query);
        var authorization = definition.Authorization is { } a
            ? string.IsNullOrEmpty(a.Parameter) ? Value(a.Scheme!) : $"{Value(a.Scheme!)} {Value(a.Parameter)}"
            : null;
        return headers.Length == 0 && query.Length == 0 && authorization is null && definition.ManagedIdentity is null
            ? null
            : new BackendCredentials(headers, query, authorization, definition.ManagedIdentity);
    }

    /// <summary>The request's query with the credentials' parameters set.</summary>
    public Dictionary<string, string[]> WithQuery(IReadOnlyDictionary<string, string[]> query)
    {
        var merged = new Dictionary<string, string[]>(query, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in _query)
        {
            merged[name] = values;
        }

        return merged;
    }

    /// <summary>Sets the credentials' headers, then <c>Authorization</c> (a managed-identity token last, so it wins).</summary>
    /// <exception cref="ManagedIdentityTokenException">The identity provider gave no token.</exception>
    public async ValueTask ApplyAsync(IHeaderDictionary headers, IManagedIdentityTokenProvider identity, CancellationToken cancellationToken)
    {
        foreach (var (name, values) in _headers)
        {
            headers[name] = values;
        }

        if (_authorization is not null)
        {
            headers[AuthorizationHeader] = _authorization;
        }

        if (_identity is { Resource: { } resource })
        {
            var token = await identity.GetTokenAsync(resource, _identity.ClientId, cancellationToken);
            headers[AuthorizationHeader] = "Bearer " + token.Token;
        }
    }
}
