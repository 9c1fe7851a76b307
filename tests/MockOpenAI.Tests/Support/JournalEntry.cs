using System.Text.Json;

namespace MockOpenAI.Tests.Support;

/// <summary>A request as a mock account's journal (WireMock's <c>/__admin/requests</c>) recorded it.</summary>
internal sealed record JournalEntry(DateTime At, string Method, string Path, IReadOnlyDictionary<string, string> Query, IReadOnlyDictionary<string, string> Headers, string? Body)
{
    // WireMock's field names (constants, as the analyzer would take them for this record's own names).
    private const string MethodField = "Method";
    private const string PathField = "Path";
    private const string BodyField = "Body";

    public static JournalEntry Read(JsonElement request) => new(
        request.GetProperty("DateTime").GetDateTime(),
        request.GetProperty(MethodField).GetString()!,
        request.GetProperty(PathField).GetString()!,
        Values(request, "Query"),
        Values(request, "Headers"),
        request.TryGetProperty(BodyField, out var body) && body.ValueKind == JsonValueKind.String ? body.GetString() : null);

    /// <summary>A header or query parameter's values joined with commas, by name without case.</summary>
    private static Dictionary<string, string> Values(JsonElement request, string property)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (request.TryGetProperty(property, out var map) && map.ValueKind == JsonValueKind.Object)
        {
            foreach (var entry in map.EnumerateObject())
            {
                values[entry.Name] = entry.Value.ValueKind == JsonValueKind.Array
                    ? string.Join(",", entry.Value.EnumerateArray().Select(v => v.GetString()))
                    : entry.Value.ToString();
            }
        }

        return values;
    }
}
