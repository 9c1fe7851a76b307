namespace TrafficGenerator.Scheduling;

/// <summary>The calls the generator makes, each through the gateway's v1 surface.</summary>
internal enum TrafficOperation
{
    /// <summary><c>POST /openai/v1/chat/completions</c>.</summary>
    Chat,

    /// <summary><c>POST /openai/v1/chat/completions</c> with <c>"stream": true</c>.</summary>
    StreamedChat,

    /// <summary><c>POST /openai/v1/responses</c> (not stored).</summary>
    Responses,

    /// <summary><c>POST /openai/v1/embeddings</c>.</summary>
    Embeddings,
}
