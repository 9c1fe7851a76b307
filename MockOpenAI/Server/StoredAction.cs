namespace MockOpenAI.Server;

/// <summary>What a request does with a stored response.</summary>
internal enum StoredAction
{
    Get,
    Delete,
    InputItems,
}
