using System.Text.Json;

namespace MockOpenAI.Storage;

/// <summary>
/// One stored Responses API answer: the response as served, its own input items and output items (each a detached,
/// immutable element), and the response it continued. Earlier turns are reached through <see cref="PreviousResponseId"/>,
/// not copied, so deleting or losing an earlier turn drops it from the conversation, as OpenAI's store behaves.
/// </summary>
internal sealed record StoredResponse(
    string Id,
    DateTimeOffset StoredAt,
    JsonElement Response,
    IReadOnlyList<JsonElement> InputItems,
    IReadOnlyList<JsonElement> OutputItems,
    string? PreviousResponseId);
