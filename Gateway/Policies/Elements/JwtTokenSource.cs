using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// Where <c>validate-jwt</c> and <c>validate-azure-ad-token</c> find the token: exactly one of a header, a query
/// parameter or a value. For <c>Authorization</c> the token is what follows the scheme (which <see cref="RequireScheme"/>
/// may name); any other header holds the token itself.
/// </summary>
internal sealed record JwtTokenSource(PolicyValue? Header, PolicyValue? Query, PolicyValue? Value, PolicyValue? RequireScheme)
{
    /// <summary>The token as the request carries it; null or empty when there is none.</summary>
    /// <param name="context">The request.</param>
    /// <param name="element">The element reading it, for expression failures.</param>
    /// <param name="defaultHeader">The header read when neither a header, a query parameter nor a value is set.</param>
    public string? Read(RequestContext context, string element, string? defaultHeader = null)
    {
        if (Value is { } value)
        {
            return value.EvaluateString(context, element)?.Trim();
        }

        if (Query is { } query)
        {
            var name = query.EvaluateString(context, element) ?? string.Empty;
            return context.Query.TryGetValue(name, out var values) ? values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim() : null;
        }

        var headerName = Header?.EvaluateString(context, element) ?? defaultHeader ?? string.Empty;
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
        if (RequireScheme?.EvaluateString(context, element) is { Length: > 0 } required && !string.Equals(scheme, required, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return space < 0 ? raw : raw[(space + 1)..].Trim();
    }
}
