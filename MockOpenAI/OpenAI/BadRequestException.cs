namespace MockOpenAI.OpenAI;

/// <summary>The request is malformed: Azure OpenAI answers 400 with the offending parameter.</summary>
internal sealed class BadRequestException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;
}
