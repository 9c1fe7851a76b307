using System.Text;
using Gateway.Pipeline;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>rewrite-uri</c>: replaces the path (relative to the backend's URL) and optionally the query of the forwarded
/// request. <c>{name}</c> in the template takes the operation's matched parameter or the query parameter of that name.
/// With <c>copy-unmatched-params</c> (default true) the request's query parameters the template does not use are kept.
/// </summary>
internal sealed class RewriteUriPolicy(ElementInfo info, PolicyValue template, bool copyUnmatched) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var template = reader.Value("template", required: true);
        var copy = reader.Bool("copy-unmatched-params", true);
        reader.Children();
        return template is null ? null : new RewriteUriPolicy(reader.Info, template, copy);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var text = template.EvaluateString(context, Name) ?? string.Empty;
        var split = text.IndexOf('?', StringComparison.Ordinal);
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var path = Fill(split < 0 ? text : text[..split], context, used, escape: true);
        var rewritten = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        if (split >= 0)
        {
            foreach (var (name, values) in QueryHelpers.ParseQuery(text[(split + 1)..]))
            {
                rewritten[name] = [.. values.Select(v => Fill(v ?? string.Empty, context, used, escape: false))];
            }
        }

        if (copyUnmatched)
        {
            foreach (var (name, values) in context.Query)
            {
                if (!used.Contains(name) && !rewritten.ContainsKey(name))
                {
                    rewritten[name] = values;
                }
            }
        }

        context.OperationPath = path.StartsWith('/') ? path : "/" + path;
        context.Query.Clear();
        foreach (var (name, values) in rewritten)
        {
            context.Query[name] = values;
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>Replaces each <c>{name}</c> with the matched parameter or query parameter of that name.</summary>
    private string Fill(string template, RequestContext context, HashSet<string> used, bool escape)
    {
        var result = new StringBuilder(template.Length);
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf('{', position);
            var close = open < 0 ? -1 : template.IndexOf('}', open);
            if (open < 0 || close < 0)
            {
                result.Append(template, position, template.Length - position);
                break;
            }

            result.Append(template, position, open - position);
            var name = template[(open + 1)..close];
            var value = context.MatchedParameters.TryGetValue(name, out var matched) ? matched
                : context.Query.TryGetValue(name, out var query) && query.Length > 0 ? query[0]
                : throw new PolicyExecutionException(Name, ErrorReasons.TemplateParameterNotFound, $"The template parameter '{name}' is neither a URL template parameter of the operation nor a query parameter.");
            used.Add(name);
            result.Append(escape ? Uri.EscapeDataString(value) : value);
            position = close + 1;
        }

        return result.ToString();
    }
}
