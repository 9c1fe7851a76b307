using System.Text.Json;

namespace Gateway.Apim.Model;

/// <summary>Reads the JSON artefacts of <c>apim/</c> with one set of rules and one kind of error.</summary>
internal static class ApimJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Skip,
    };

    public static T Read<T>(string path)
        where T : class
    {
        if (!File.Exists(path))
        {
            throw new ApimArtifactException(path, "file not found");
        }

        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<T>(stream, Options) ?? throw new ApimArtifactException(path, "the document is empty");
        }
        catch (JsonException ex)
        {
            throw new ApimArtifactException(path, $"invalid JSON at line {(ex.LineNumber ?? 0) + 1}: {ex.Message}", ex);
        }
    }
}
