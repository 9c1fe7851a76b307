using System.Text.Json;
using Gateway.Apim.Model;

namespace Gateway.Apim;

/// <summary>The operations of an API, read from its OpenAPI document (the same file the cloud deployment imports).</summary>
internal sealed class ApiDefinition
{
    private static readonly string[] Methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

    public ApiDefinition(IReadOnlyList<ApiOperation> operations)
    {
        Operations = operations;
    }

    public IReadOnlyList<ApiOperation> Operations { get; }

    /// <summary>The first example of each response status and content type (<c>example</c>, else the first of <c>examples</c>).</summary>
    private static Dictionary<(int, string), string> Examples(JsonElement operation)
    {
        var examples = new Dictionary<(int, string), string>();
        if (!operation.TryGetProperty("responses", out var responses) || responses.ValueKind != JsonValueKind.Object)
        {
            return examples;
        }

        foreach (var response in responses.EnumerateObject())
        {
            if (!int.TryParse(response.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var status)
                || !response.Value.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var media in content.EnumerateObject())
            {
                if (media.Value.TryGetProperty("example", out var example))
                {
                    examples[(status, media.Name)] = example.ValueKind == JsonValueKind.String ? example.GetString()! : example.GetRawText();
                }
                else if (media.Value.TryGetProperty("examples", out var named) && named.ValueKind == JsonValueKind.Object
                    && named.EnumerateObject().FirstOrDefault().Value is { ValueKind: JsonValueKind.Object } first && first.TryGetProperty("value", out var value))
                {
                    examples[(status, media.Name)] = value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText();
                }
            }
        }

        return examples;
    }

    public static ApiDefinition Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new ApimArtifactException(path, "file not found");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!document.RootElement.TryGetProperty("paths", out var paths) || paths.ValueKind != JsonValueKind.Object)
            {
                throw new ApimArtifactException(path, "an OpenAPI document needs 'paths'");
            }

            var operations = new List<ApiOperation>();
            foreach (var pathItem in paths.EnumerateObject())
            {
                foreach (var method in Methods)
                {
                    if (!pathItem.Value.TryGetProperty(method, out var operation))
                    {
                        continue;
                    }

                    var id = operation.TryGetProperty("operationId", out var operationId) ? operationId.GetString() : null;
                    if (string.IsNullOrWhiteSpace(id))
                    {
                        throw new ApimArtifactException(path, $"{method.ToUpperInvariant()} {pathItem.Name} has no operationId");
                    }

                    if (ApiOperation.TemplateProblem(pathItem.Name) is { } problem)
                    {
                        throw new ApimArtifactException(path, $"{method.ToUpperInvariant()} {pathItem.Name} ({id}): {problem}");
                    }

                    operations.Add(new ApiOperation(id, method.ToUpperInvariant(), pathItem.Name, Examples(operation)));
                }
            }

            return new ApiDefinition(operations);
        }
        catch (JsonException ex)
        {
            throw new ApimArtifactException(path, $"invalid JSON: {ex.Message}", ex);
        }
    }
}
