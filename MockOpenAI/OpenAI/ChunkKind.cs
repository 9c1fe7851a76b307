namespace MockOpenAI.OpenAI;

/// <summary>What a streamed chunk carries, which decides when it leaves.</summary>
internal enum ChunkKind
{
    PromptFilter,
    Role,
    Content,
    Finish,
    Usage,
    Done,
}
