namespace MockOpenAI.OpenAI;

/// <summary>What a completion's text must be: free text, any JSON object, or JSON that validates against a schema.</summary>
internal enum OutputFormatKind
{
    Text,
    JsonObject,
    JsonSchema,
}
