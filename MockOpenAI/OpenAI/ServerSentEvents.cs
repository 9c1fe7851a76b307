using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>Server-sent events as Azure OpenAI writes them.</summary>
internal static class ServerSentEvents
{
    public const string Done = "data: [DONE]\n\n";

    public static string Data(JsonObject chunk) => "data: " + chunk.ToJsonString(MockJson.Options) + "\n\n";
}
