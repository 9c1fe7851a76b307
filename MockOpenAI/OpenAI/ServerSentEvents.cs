using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>Server-sent events as Azure OpenAI writes them.</summary>
internal static class ServerSentEvents
{
    public const string Done = "data: [DONE]\n\n";

    public static string Data(JsonObject chunk) => "data: " + chunk.ToJsonString(MockJson.Options) + "\n\n";

    /// <summary>A named event, as the Responses API sends them: the <c>event:</c> line repeats the payload's <c>type</c>.</summary>
    public static string Event(JsonObject payload) =>
        "event: " + payload["type"]!.GetValue<string>() + "\ndata: " + payload.ToJsonString(MockJson.Options) + "\n\n";
}
