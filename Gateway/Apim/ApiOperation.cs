namespace Gateway.Apim;

/// <summary>An operation of an API: its id (the OpenAPI operationId), method and URL template relative to the API path.</summary>
internal sealed class ApiOperation
{
    private readonly string[] _segments;

    public ApiOperation(string id, string method, string urlTemplate, IReadOnlyDictionary<(int Status, string ContentType), string>? examples = null)
    {
        Examples = examples ?? new Dictionary<(int, string), string>();
        Id = id;
        Method = method;
        UrlTemplate = urlTemplate;
        _segments = urlTemplate.Trim('/').Split('/');
    }

    public string Id { get; }

    public string Method { get; }

    public string UrlTemplate { get; }

    /// <summary>The response examples of the API definition, by status code and content type (what <c>mock-response</c> answers).</summary>
    public IReadOnlyDictionary<(int Status, string ContentType), string> Examples { get; }

    /// <summary>Matches the (decoded) path segments after the API path; template parameters are captured into <paramref name="parameters"/>.</summary>
    public bool TryMatch(string method, ReadOnlySpan<string> segments, Dictionary<string, string> parameters)
    {
        if (!string.Equals(method, Method, StringComparison.OrdinalIgnoreCase) || segments.Length != _segments.Length)
        {
            return false;
        }

        for (var i = 0; i < _segments.Length; i++)
        {
            var template = _segments[i];
            if (template.Length > 2 && template[0] == '{' && template[^1] == '}')
            {
                if (segments[i].Length == 0)
                {
                    return false;
                }

                parameters[template[1..^1]] = segments[i];
            }
            else if (!string.Equals(template, segments[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
