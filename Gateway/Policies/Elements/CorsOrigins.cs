namespace Gateway.Policies.Elements;

/// <summary>
/// The <c>allowed-origins</c> of a <c>cors</c> policy: <c>*</c>, or origins compared by scheme, host and port, a missing
/// port being the scheme's default (80 for http, 443 for https), as the reference says.
/// </summary>
internal sealed class CorsOrigins
{
    private readonly HashSet<string> _origins;

    private CorsOrigins(bool any, IEnumerable<string> origins)
    {
        Any = any;
        _origins = new(origins, StringComparer.Ordinal);
    }

    /// <summary>Whether <c>*</c> allows every origin.</summary>
    public bool Any { get; }

    public static CorsOrigins Read(ElementReader reader, IReadOnlyList<string> texts)
    {
        if (texts.Contains("*", StringComparer.Ordinal))
        {
            if (texts.Count > 1)
            {
                reader.Error("<allowed-origins> holds either a single <origin>*</origin> or origin URLs, not both");
            }

            return new CorsOrigins(any: true, []);
        }

        var origins = new List<string>();
        foreach (var text in texts)
        {
            if (TryNormalize(text, out var origin))
            {
                origins.Add(origin);
            }
            else
            {
                // API Management's own words for such an origin (quoted in Azure/api-management-developer-portal#2690).
                reader.Error($"<origin> must be * or a valid URL consisting of scheme, host, and port only, not '{text}'");
            }
        }

        return new CorsOrigins(any: false, origins);
    }

    /// <summary>Whether a request's <c>Origin</c> header is allowed (<c>null</c> and malformed origins never are, but by <c>*</c>).</summary>
    public bool Allows(string origin) => Any || (TryNormalize(origin, out var normalized) && _origins.Contains(normalized));

    private static bool TryNormalize(string text, out string origin)
    {
        origin = string.Empty;
        if (!Uri.TryCreate(text.Trim(), UriKind.Absolute, out var uri) || uri.Host.Length == 0 || uri.UserInfo.Length > 0
            || uri.AbsolutePath != "/" || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            return false;
        }

        origin = $"{uri.Scheme}://{uri.Host}:{uri.Port}".ToLowerInvariant();
        return true;
    }
}
