namespace MockOpenAI.OpenAI;

/// <summary>What a streamed chunk carries, which decides when it leaves.</summary>
internal enum ChunkKind
{
    PromptFilter,

    /// <summary>Sent at once, before generation starts (the Responses API's <c>response.created</c> and <c>response.in_progress</c>).</summary>
    Preamble,
    Role,
    Content,

    /// <summary>Another choice's piece at the same position (<c>n</c> &gt; 1): it travels with the first, no extra wait.</summary>
    OtherChoice,
    Finish,
    Usage,
    Done,
}
