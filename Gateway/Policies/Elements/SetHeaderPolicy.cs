using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary><c>set-header</c>: on the request in inbound and backend, on the response in outbound and on-error.</summary>
internal sealed class SetHeaderPolicy(ElementInfo info, PolicyValue name, ExistsAction action, IReadOnlyList<PolicyValue> values) : PolicyElement(info)
{
    /// <summary>Headers API Management sends once per value instead of comma-joined.</summary>
    private static readonly HashSet<string> SeparateHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "User-Agent", "WWW-Authenticate", "Proxy-Authenticate", "Cookie", "Set-Cookie", "Warning", "Date", "Expires", "If-Modified-Since", "If-Unmodified-Since", "Last-Modified", "Retry-After",
    };

    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Value("name", required: true);
        var action = ExistsActions.Read(reader);
        var values = ExistsActions.ReadValues(reader, action);
        return name is null ? null : new SetHeaderPolicy(reader.Info, name, action, values);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var headerName = name.EvaluateString(context, Name);
        if (string.IsNullOrEmpty(headerName) || !headerName.All(IsTokenChar))
        {
            throw new PolicyExecutionException(Name, "InvalidHeaderName", $"'{headerName}' is not a valid header name.");
        }

        var newValues = values.Select(v => v.EvaluateString(context, Name) ?? string.Empty).ToList();
        if (newValues.Any(v => !v.All(c => c == '\t' || (c >= ' ' && c < '\u007f'))))
        {
            throw new PolicyExecutionException(Name, "InvalidHeaderValue", $"The value of header '{headerName}' holds a control or non-ASCII character.");
        }

        if (newValues.Count > 1 && !SeparateHeaders.Contains(headerName))
        {
            // API Management sends several values as one comma-separated header.
            newValues = [string.Join(",", newValues)];
        }

        var onRequest = frame.Section is PolicySection.Inbound or PolicySection.Backend;
        var headers = onRequest ? context.RequestHeaders : context.Response.Headers;
        ExistsActions.Apply(
            action,
            headers.TryGetValue(headerName, out var existing) ? existing : null,
            newValues,
            set => headers[headerName] = set,
            () => headers.Remove(headerName));
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>RFC 9110 token characters, the only ones a header name may hold.</summary>
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
