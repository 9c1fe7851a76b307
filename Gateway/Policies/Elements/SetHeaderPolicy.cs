using System.Buffers;
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
        var onRequest = frame.Section is PolicySection.Inbound or PolicySection.Backend;
        Apply(context, onRequest ? context.RequestHeaders : context.Response.Headers);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>Sets, appends or deletes the header in <paramref name="headers"/>: the request's, the response's, or those of a <c>send-request</c>.</summary>
    public void Apply(RequestContext context, IDictionary<string, string[]> headers)
    {
        var headerName = name.EvaluateString(context, Name);
        if (string.IsNullOrEmpty(headerName) || headerName.AsSpan().ContainsAnyExcept(TokenChars))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidHeaderName, $"'{headerName}' is not a valid header name.");
        }

        var newValues = new List<string>(values.Count);
        foreach (var value in values)
        {
            newValues.Add(value.EvaluateString(context, Name) ?? string.Empty);
        }

        foreach (var value in newValues)
        {
            if (value.AsSpan().ContainsAnyExcept(ValueChars))
            {
                throw new PolicyExecutionException(Name, ErrorReasons.InvalidHeaderValue, $"The value of header '{headerName}' holds a control or non-ASCII character.");
            }
        }

        if (newValues.Count > 1 && !SeparateHeaders.Contains(headerName))
        {
            // API Management sends several values as one comma-separated header.
            newValues = [string.Join(",", newValues)];
        }

        ExistsActions.Apply(action, headers, headerName, newValues);
    }

    /// <summary>RFC 9110 token characters, the only ones a header name may hold.</summary>
    private static readonly SearchValues<char> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>What a header value may hold: tab and visible ASCII with space (no CR, LF or other control character).</summary>
    private static readonly SearchValues<char> ValueChars =
        SearchValues.Create("\t" + string.Concat(Enumerable.Range(' ', '\u007f' - ' ').Select(c => (char)c)));
}
