using System.Globalization;
using Gateway.Forwarding;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// What <c>send-request</c> and <c>send-one-way-request</c> share: <c>mode</c> and <c>timeout</c>, and the children that
/// build the request (<c>set-url</c>, <c>set-method</c>, <c>set-header</c>, <c>set-body</c>,
/// <c>authentication-managed-identity</c>). <c>mode="new"</c> starts from nothing and needs <c>set-url</c> and
/// <c>set-method</c>; <c>mode="copy"</c> starts from the request being served as the policy has changed it so far (method,
/// headers but <c>Host</c> and framing, body except in outbound, and the URL it would be forwarded to), which the
/// children then change. <c>authentication-certificate</c> and <c>proxy</c> are refused: neither is emulated.
/// </summary>
internal sealed class OutgoingRequest(
    PolicyValue? mode,
    PolicyValue? timeout,
    PolicyValue? url,
    SetMethodPolicy? method,
    IReadOnlyList<SetHeaderPolicy> headers,
    SetBodyPolicy? body,
    ManagedIdentityLogin? identity)
{
    /// <summary>The reference's default timeout, in seconds.</summary>
    public const int DefaultTimeoutSeconds = 60;

    /// <summary>The longest timeout accepted (a day): API Management documents none; a deadline needs one.</summary>
    public const int MaxTimeoutSeconds = 86_400;

    private const string ModeNew = "new";
    private const string ModeCopy = "copy";

    /// <summary>Headers of the served request a copy does not take: the target's own host, and what framing recomputes.</summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Content-Length", "Transfer-Encoding", "Expect", "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Upgrade",
    };

    /// <summary>Whether the request may copy the served request's body (mode is <c>copy</c>, or an expression), which must then be held in memory.</summary>
    public bool MayCopy => mode is not null && (mode.IsExpression || IsCopy(mode.ToString()));

    public static OutgoingRequest? Parse(ElementReader reader)
    {
        var mode = reader.Value("mode");
        if (mode is { IsExpression: false } && !IsCopy(mode.ToString()) && !IsNew(mode.ToString()))
        {
            reader.Error($"attribute 'mode' of <{reader.Info.Name}> must be new or copy, not '{mode}'");
        }

        var timeout = reader.Value("timeout");
        if (timeout is { IsExpression: false } && !TryParseTimeout(timeout.ToString(), out _))
        {
            reader.Error($"attribute 'timeout' of <{reader.Info.Name}> must be a whole number of seconds from 0 to {MaxTimeoutSeconds}, not '{timeout}'");
        }

        PolicyValue? url = null;
        SetMethodPolicy? method = null;
        SetBodyPolicy? body = null;
        ManagedIdentityLogin? identity = null;
        var headers = new List<SetHeaderPolicy>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var child in reader.Children("set-url", "set-method", "set-header", "set-body", "authentication-managed-identity", "authentication-certificate", "proxy"))
        {
            var name = child.Name.LocalName;
            var childReader = reader.Reader(child, index[name] = index.GetValueOrDefault(name) + 1);
            if (name != "set-header" && index[name] > 1)
            {
                childReader.Error($"<{reader.Info.Name}> holds at most one <{name}>");
                continue;
            }

            switch (name)
            {
                case "set-url":
                    url = ParseUrl(childReader);
                    break;
                case "set-method":
                    method = (SetMethodPolicy)SetMethodPolicy.Parse(childReader);
                    break;
                case "set-header":
                    if (SetHeaderPolicy.Parse(childReader) is SetHeaderPolicy header)
                    {
                        headers.Add(header);
                    }

                    break;
                case "set-body":
                    body = SetBodyPolicy.Parse(childReader) as SetBodyPolicy;
                    break;
                case "authentication-managed-identity":
                    identity = ParseIdentity(childReader);
                    break;
                default:
                    childReader.Error($"<{name}> inside <{reader.Info.Name}> is not supported by this gateway ("
                        + (name == "proxy" ? "it routes through no HTTP proxy" : "it has no certificate store") + ")");
                    continue;
            }

            childReader.Finish();
        }

        var copy = mode is { IsExpression: false } && IsCopy(mode.ToString());
        if (!copy && url is null)
        {
            reader.Error($"<{reader.Info.Name}> needs <set-url> unless mode is copy");
        }

        if (!copy && method is null)
        {
            reader.Error($"<{reader.Info.Name}> needs <set-method> unless mode is copy");
        }

        return new OutgoingRequest(mode, timeout, url, method, headers, body, identity);
    }

    /// <summary>Evaluates every value now, in the served request's context, into a request that no longer needs it.</summary>
    /// <param name="context">The request being served.</param>
    /// <param name="section">The section the element runs in: in outbound a copy has no body, as documented.</param>
    /// <param name="source">The element's name, for errors.</param>
    public PreparedRequest Prepare(RequestContext context, PolicySection section, string source)
    {
        var copy = mode is not null && IsCopy(Evaluate(mode, context, source, "mode", text => IsCopy(text) || IsNew(text)));
        var requestHeaders = new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase);
        var requestMethod = HttpMethods.Get;
        byte[]? requestBody = null;
        Uri? requestUrl = null;
        if (copy)
        {
            foreach (var (name, values) in context.RequestHeaders)
            {
                if (!NotCopied.Contains(name))
                {
                    requestHeaders[name] = values;
                }
            }

            requestMethod = context.Method;
            if (section != PolicySection.Outbound && context.RequestBody.IsBuffered)
            {
                requestBody = context.RequestBody.Content.ToArray();
            }
        }

        if (url is not null)
        {
            var text = url.EvaluateString(context, source)?.Trim();
            requestUrl = TryParseUrl(text, out var parsed)
                ? parsed
                : throw new PolicyExecutionException(source, ErrorReasons.InvalidUrl, $"'{text}' is not an absolute http or https URL.");
        }
        else if (copy)
        {
            requestUrl = ForwardUrl(context, source);
        }

        if (method is not null)
        {
            requestMethod = method.Evaluate(context);
        }
        else if (!copy)
        {
            throw new PolicyExecutionException(source, ErrorReasons.InvalidRequest, $"<{source}> with mode new needs <set-url> and <set-method>.");
        }

        foreach (var header in headers)
        {
            header.Apply(context, requestHeaders);
        }

        if (body is not null)
        {
            requestBody = body.Content(context);
        }

        // The client frames the body itself.
        requestHeaders.Remove("Content-Length");
        requestHeaders.Remove("Transfer-Encoding");
        var seconds = timeout is null ? DefaultTimeoutSeconds : int.Parse(Evaluate(timeout, context, source, "timeout", text => TryParseTimeout(text, out _)), CultureInfo.InvariantCulture);
        return new PreparedRequest(requestUrl ?? throw new PolicyExecutionException(source, ErrorReasons.InvalidRequest, $"<{source}> with mode new needs <set-url>."), requestMethod, requestHeaders, requestBody, identity, TimeSpan.FromSeconds(seconds));
    }

    private static bool IsCopy(string text) => string.Equals(text.Trim(), ModeCopy, StringComparison.OrdinalIgnoreCase);

    private static bool IsNew(string text) => string.Equals(text.Trim(), ModeNew, StringComparison.OrdinalIgnoreCase);

    private static bool TryParseTimeout(string? text, out int seconds) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out seconds) && seconds is >= 0 and <= MaxTimeoutSeconds;

    private static bool TryParseUrl(string? text, out Uri url) =>
        Uri.TryCreate(text, UriKind.Absolute, out url!) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);

    /// <summary>An attribute's value, which must pass <paramref name="valid"/>.</summary>
    private static string Evaluate(PolicyValue value, RequestContext context, string source, string attribute, Func<string, bool> valid)
    {
        var text = value.EvaluateString(context, source)?.Trim();
        return text is not null && valid(text)
            ? text
            : throw new PolicyExecutionException(source, ErrorReasons.ExpressionValueEvaluationFailure, $"'{text}' is not a valid value of attribute '{attribute}' of <{source}>.");
    }

    /// <summary>Where <c>forward-request</c> would send the request now: a copy without <c>set-url</c> goes there.</summary>
    private static Uri ForwardUrl(RequestContext context, string source)
    {
        var target = context.Target?.Url
            ?? (context.BackendEntity is null ? (context.Api as ApiInfo)?.Entity.ServiceUrl : null)
            ?? throw new PolicyExecutionException(source, ErrorReasons.BackendNotSet, $"<{source}> with mode copy and no <set-url> goes where the request would be forwarded, but no backend URL is set (a pool's member is only chosen by forward-request).");
        return new Uri(target.ToString().TrimEnd('/') + context.OperationPath + context.BuildQueryString());
    }

    private static PolicyValue? ParseUrl(ElementReader reader)
    {
        reader.Children();
        var value = reader.TextValue(reader.Element, ownAttributes: true);
        if (!value.IsExpression && !TryParseUrl(value.ToString().Trim(), out _))
        {
            reader.Error($"<set-url> needs an absolute http or https URL, not '{value.ToString().Trim()}'");
        }

        return value;
    }

    private static ManagedIdentityLogin? ParseIdentity(ElementReader reader)
    {
        var resource = reader.Literal("resource", required: true);
        var clientId = reader.Literal("client-id");
        var ignoreError = reader.Bool("ignore-error", false);
        reader.Refuse("output-token-variable-name", reason: "inside a request the token is always sent as Authorization: Bearer");
        reader.Children();
        return resource is null ? null : new ManagedIdentityLogin(resource, clientId, ignoreError);
    }
}
