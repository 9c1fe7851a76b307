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
        _segments = [.. urlTemplate.Trim('/').Split('/').Select(t => t.Length > 2 && t[0] == '{' && t[^1] == '}' ? (t[1..^1], true) : (t, false))];
        _parameterCount = _segments.Count(s => s.Parameter);
    }

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
