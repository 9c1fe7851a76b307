using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>
/// A Responses API request as the mock reads it: the generation (prompt tokens include the earlier turns), the input as
/// item resources with ids, and the settings a response object echoes.
/// </summary>
internal sealed record ResponsesRequest(
    GenerationRequest Generation,
    IReadOnlyList<JsonObject> InputItems,
    string? Instructions,
    int? MaxOutputTokens,
    string? PreviousResponseId,
    bool Store,
    double Temperature,
    double TopP,
    string? User,
    JsonObject Metadata,
    JsonObject TextFormat,
    bool IncludeObfuscation,
    int Seed);
