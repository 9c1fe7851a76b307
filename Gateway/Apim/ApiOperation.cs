namespace Gateway.Apim;

/// <summary>An operation of an API: its id (the OpenAPI operationId), method and URL template relative to the API path.</summary>
internal sealed class ApiOperation
{
    // The template's segments after the API path: a literal, or a parameter's name (Parameter true).
    private readonly (string Text, bool Parameter)[] _segments;
    private readonly int _parameterCount;

    public ApiOperation(string id, string method, string urlTemplate, IReadOnlyDictionary<(int Status, string ContentType), string>? examples = null)
    {
        Examples = examples ?? new Dictionary<(int, string), string>();
        Id = id;
        Method = method;
        UrlTemplate = urlTemplate;
        _segments = [.. urlTemplate.Trim('/').Split('/').Select(t => ParameterName(t) is { } name ? (name, true) : (t, false))];
        _parameterCount = _segments.Count(s => s.Parameter);
    }

    /// <summary>
    /// Why the gateway cannot serve <paramref name="urlTemplate"/>, or null when it can: segments that are literals or
    /// whole parameters (<c>{name}</c>, each name once, case ignored as in <see cref="CaptureParameters"/>), none empty
    /// but for the leading and trailing slashes; no query or fragment (API Management also matches the query parameters
    /// a template names; the gateway matches the path only); no percent-encoding (a request's path reaches the
    /// matcher decoded, so an encoded literal would never match).
    /// </summary>
    public static string? TemplateProblem(string urlTemplate)
    {
        if (urlTemplate.AsSpan().IndexOfAny('?', '#') >= 0)
        {
            return "a '?' or '#' in the URL template (a query, a fragment, or an optional parameter) is not supported: the local gateway matches the path only, each parameter a whole segment";
        }

        if (urlTemplate.Contains('%', StringComparison.Ordinal))
        {
            return "percent-encoding in the URL template is not supported: write the characters as they are";
        }

        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var path = urlTemplate.Trim('/');
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0 && path.Length > 0)
            {
                return "the URL template has an empty segment ('//')";
            }

            if (segment.AsSpan().IndexOfAny('{', '}') < 0)
            {
                continue;
            }

            var name = ParameterName(segment);
            if (name is null || name.AsSpan().IndexOfAny('{', '}') >= 0)
            {
                return $"the segment '{segment}' is not a parameter the local gateway can match: a parameter must be a whole path segment, as in {{name}}";
            }

            if (!names.Add(name))
            {
                return $"the parameter {{{name}}} appears more than once (names compare without case)";
            }
        }

        return null;
    }

    /// <summary>The parameter a template segment names (<c>{name}</c>), or null for a literal.</summary>
    private static string? ParameterName(string segment) =>
        segment.Length > 2 && segment[0] == '{' && segment[^1] == '}' ? segment[1..^1] : null;

    public string Id { get; }

    public string Method { get; }

    public string UrlTemplate { get; }

    /// <summary>The response examples of the API definition, by status code and content type (what <c>mock-response</c> answers).</summary>
    public IReadOnlyDictionary<(int Status, string ContentType), string> Examples { get; }

    /// <summary>
    /// Whether <paramref name="method"/> and the (decoded) path after the API path, split at <paramref name="segments"/>,
    /// match this operation: as many segments, each literal equal but for case, each parameter not empty.
    /// </summary>
    public bool Matches(string method, ReadOnlySpan<char> path, ReadOnlySpan<Range> segments)
    {
        if (!string.Equals(method, Method, StringComparison.OrdinalIgnoreCase) || segments.Length != _segments.Length)
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            var (text, parameter) = _segments[i];
            var segment = path[segments[i]];
            if (parameter ? segment.IsEmpty : !segment.Equals(text, StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The template parameters' values in a path this operation <see cref="Matches"/>, by name (case ignored).</summary>
    public Dictionary<string, string> CaptureParameters(ReadOnlySpan<char> path, ReadOnlySpan<Range> segments)
    {
        var parameters = new Dictionary<string, string>(_parameterCount, StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < _segments.Length; i++)
        {
            if (_segments[i].Parameter)
            {
                parameters[_segments[i].Text] = path[segments[i]].ToString();
            }
        }

        return parameters;
    }
}
