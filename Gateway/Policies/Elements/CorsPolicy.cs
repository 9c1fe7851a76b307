using System.Globalization;
using System.Xml.Linq;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>cors</c>: cross-origin resource sharing. A preflight (<c>OPTIONS</c> with <c>Origin</c> and
/// <c>Access-Control-Request-Method</c>, no <c>OPTIONS</c> operation) is answered by <see cref="CorsPreflight"/> from the
/// cors policies of the operation's inbound, before the subscription key and before any other policy. On any other
/// request with an <c>Origin</c> the element runs where it stands: an allowed origin (and method) gets
/// <c>Access-Control-Allow-Origin</c>, <c>-Allow-Credentials</c> and <c>-Expose-Headers</c> on whatever response the
/// client finally receives; an unmatched <c>GET</c> or <c>HEAD</c> ends with an empty <c>200 OK</c> when
/// <c>terminate-unmatched-request</c> is true, and otherwise goes on without CORS headers. The first cors that matches
/// decides; later ones do nothing.
/// </summary>
internal sealed class CorsPolicy : PolicyElement
{
    /// <summary>The methods allowed when <c>allowed-methods</c> is absent.</summary>
    private static readonly string[] DefaultMethods = ["GET", "POST"];

    private readonly PolicyValue? _allowCredentials;
    private readonly PolicyValue? _terminateUnmatched;
    private readonly CorsOrigins _origins;
    private readonly IReadOnlyList<PolicyValue>? _methods;
    private readonly PolicyValue? _maxAge;
    private readonly CorsHeaderList _allowedHeaders;
    private readonly IReadOnlyList<string> _exposeHeaders;

    private CorsPolicy(ElementInfo info, PolicyValue? allowCredentials, PolicyValue? terminateUnmatched, CorsOrigins origins, IReadOnlyList<PolicyValue>? methods, PolicyValue? maxAge, CorsHeaderList allowedHeaders, IReadOnlyList<string> exposeHeaders)
        : base(info)
    {
        _allowCredentials = allowCredentials;
        _terminateUnmatched = terminateUnmatched;
        _origins = origins;
        _methods = methods;
        _maxAge = maxAge;
        _allowedHeaders = allowedHeaders;
        _exposeHeaders = exposeHeaders;
    }

    public static PolicyElement? Parse(ElementReader reader)
    {
        var allowCredentials = BoolValue(reader, "allow-credentials");
        var terminateUnmatched = BoolValue(reader, "terminate-unmatched-request");
        if (reader.Element.ElementsBeforeSelf(reader.Element.Name).Any())
        {
            reader.Error("<cors> may appear only once in a section");
        }

        CorsOrigins? origins = null;
        IReadOnlyList<PolicyValue>? methods = null;
        PolicyValue? maxAge = null;
        CorsHeaderList? allowedHeaders = null;
        IReadOnlyList<string> exposeHeaders = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in reader.Children("allowed-origins", "allowed-methods", "allowed-headers", "expose-headers"))
        {
            var name = child.Name.LocalName;
            var childReader = reader.Reader(child, 1);
            if (!seen.Add(name))
            {
                childReader.Error($"<cors> has more than one <{name}>");
            }

            switch (name)
            {
                case "allowed-origins":
                    origins = CorsOrigins.Read(childReader, Texts(childReader, "origin"));
                    break;
                case "allowed-methods":
                    maxAge = childReader.Value("preflight-result-max-age");
                    if (maxAge is { IsExpression: false } && !IsMaxAge(maxAge.ToString()))
                    {
                        childReader.Error($"attribute 'preflight-result-max-age' of <allowed-methods> must be a whole number of seconds, not '{maxAge}'");
                    }

                    methods = [.. childReader.Children("method").Select(m => childReader.TextValue(m))];
                    if (methods.Count == 0)
                    {
                        childReader.Error("<allowed-methods> needs at least one <method>");
                    }

                    break;
                case "allowed-headers":
                    allowedHeaders = new CorsHeaderList(Texts(childReader, "header"));
                    break;
                default:
                    exposeHeaders = Texts(childReader, "header");
                    break;
            }

            childReader.Finish();
        }

        if (origins is null)
        {
            reader.Error("<cors> needs <allowed-origins>");
        }

        // The reference marks <allowed-headers> required, but Microsoft's deployed samples omit it (the evidence rule,
        // docs/fidelity.md): then no request header is allowed beyond those a preflight may always send.
        allowedHeaders ??= new CorsHeaderList([]);
        return origins is null
            ? null
            : new CorsPolicy(reader.Info, allowCredentials, terminateUnmatched, origins, methods, maxAge, allowedHeaders, exposeHeaders);
    }

    /// <summary>A request other than a preflight: the CORS headers for the response, or an empty 200 for an unmatched simple request.</summary>
    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        if (context.CorsApplied || !context.RequestHeaders.TryGetValue(CorsHeaders.Origin, out var values) || values.Length == 0)
        {
            return ValueTask.FromResult(PolicyFlow.Continue);
        }

        var origin = values[0];
        if (_origins.Allows(origin) && AllowsMethod(context, context.Method))
        {
            context.CorsApplied = true;
            var credentials = Flag(context, _allowCredentials, "allow-credentials", defaultValue: false);
            context.OnCompleted(() => AddActualHeaders(context.Response.Headers, origin, credentials));
            return ValueTask.FromResult(PolicyFlow.Continue);
        }

        // The reference: an unmatched GET or HEAD (a simple cross-origin request) ends with an empty 200 OK when
        // terminate-unmatched-request is true; anything else goes on without CORS headers.
        var simple = HttpMethods.IsGet(context.Method) || HttpMethods.IsHead(context.Method);
        if (simple && Flag(context, _terminateUnmatched, "terminate-unmatched-request", defaultValue: true))
        {
            context.ReplaceResponse(CorsPreflight.EmptyOk());
            return ValueTask.FromResult(PolicyFlow.Return);
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    /// <summary>
    /// The answer to a preflight: the Access-Control headers when the origin, the requested method and every requested
    /// header are allowed; otherwise null, with <paramref name="terminate"/> telling whether the preflight ends here.
    /// </summary>
    public ResponseState? AnswerPreflight(RequestContext context, string origin, string requestedMethod, IReadOnlyList<string> requestedHeaders, out bool terminate)
    {
        terminate = false;
        if (!_origins.Allows(origin) || !AllowsMethod(context, requestedMethod) || !requestedHeaders.All(_allowedHeaders.Allows))
        {
            terminate = Flag(context, _terminateUnmatched, "terminate-unmatched-request", defaultValue: true);
            return null;
        }

        var credentials = Flag(context, _allowCredentials, "allow-credentials", defaultValue: false);
        var response = CorsPreflight.EmptyOk();
        AddOriginHeaders(response.Headers, origin, credentials);
        response.Headers[CorsHeaders.AllowMethods] = [requestedMethod];
        if (requestedHeaders.Count > 0)
        {
            response.Headers[CorsHeaders.AllowHeaders] = [string.Join(", ", requestedHeaders)];
        }

        if (_maxAge?.EvaluateString(context, Name) is { } maxAge)
        {
            response.Headers[CorsHeaders.MaxAge] = IsMaxAge(maxAge)
                ? [maxAge.Trim()]
                : throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"preflight-result-max-age must be a whole number of seconds, not '{maxAge}'.");
        }

        return response;
    }

    private void AddActualHeaders(Dictionary<string, string[]> headers, string origin, bool credentials)
    {
        AddOriginHeaders(headers, origin, credentials);
        if (_exposeHeaders.Count > 0)
        {
            headers[CorsHeaders.ExposeHeaders] = [string.Join(", ", _exposeHeaders)];
        }
    }

    /// <summary>
    /// <c>*</c> answers <c>*</c> unless credentials are allowed, which browsers refuse with a wildcard: then, as for a listed
    /// origin, the request's origin is echoed and <c>Vary: Origin</c> tells caches the answer depends on it.
    /// </summary>
    private void AddOriginHeaders(Dictionary<string, string[]> headers, string origin, bool credentials)
    {
        if (_origins.Any && !credentials)
        {
            headers[CorsHeaders.AllowOrigin] = ["*"];
        }
        else
        {
            headers[CorsHeaders.AllowOrigin] = [origin];
            var vary = headers.TryGetValue("Vary", out var existing) ? existing : [];
            if (!vary.SelectMany(v => v.Split(',')).Any(v => string.Equals(v.Trim(), CorsHeaders.Origin, StringComparison.OrdinalIgnoreCase)))
            {
                headers["Vary"] = [.. vary, CorsHeaders.Origin];
            }
        }

        if (credentials)
        {
            headers[CorsHeaders.AllowCredentials] = ["true"];
        }
    }

    private bool AllowsMethod(RequestContext context, string method)
    {
        if (_methods is null)
        {
            return DefaultMethods.Contains(method, StringComparer.OrdinalIgnoreCase);
        }

        foreach (var value in _methods)
        {
            var allowed = value.EvaluateString(context, Name)?.Trim();
            if (allowed == "*" || string.Equals(allowed, method, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private bool Flag(RequestContext context, PolicyValue? value, string attribute, bool defaultValue) => value?.Evaluate(context, Name) switch
    {
        null => defaultValue,
        bool flag => flag,
        string text when bool.TryParse(text.Trim(), out var flag) => flag,
        var other => throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"{attribute} must be true or false, not '{other}'."),
    };

    /// <summary>A boolean attribute that may be an expression; a literal is checked when the policy loads.</summary>
    private static PolicyValue? BoolValue(ElementReader reader, string name)
    {
        var value = reader.Value(name);
        if (value is { IsExpression: false } && !bool.TryParse(value.ToString().Trim(), out _))
        {
            reader.Error($"attribute '{name}' of <cors> must be true or false, not '{value}'");
        }

        return value;
    }

    /// <summary>The literal texts of the children named <paramref name="element"/>, at least one.</summary>
    private static List<string> Texts(ElementReader reader, string element)
    {
        var texts = new List<string>();
        foreach (var child in reader.Children(element))
        {
            foreach (var attribute in child.Attributes())
            {
                reader.Error($"unknown attribute '{attribute.Name.LocalName}' on <{element}>");
            }

            var text = string.Concat(child.Nodes().OfType<XText>().Select(t => t.Value)).Trim();
            if (text.Length == 0 || PolicyParser.IsExpression(text))
            {
                reader.Error($"<{element}> must hold a literal value");
                continue;
            }

            texts.Add(text);
        }

        if (texts.Count == 0)
        {
            reader.Error($"<{reader.Info.Name}> needs at least one <{element}>");
        }

        return texts;
    }

    private static bool IsMaxAge(string text) => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out _);
}
