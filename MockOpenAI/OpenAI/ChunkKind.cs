namespace MockOpenAI.OpenAI;

/// <summary>What a streamed chunk carries, which decides when it leaves.</summary>
internal enum ChunkKind
{
    PromptFilter,
    Role,
    Content,

    /// <summary>A piece of a choice other than the first (<c>n</c> &gt; 1): it travels with the first choice's, no extra wait.</summary>
    OtherChoice,
    Finish,
    Usage,
    Done,
}
