using System.Text.Json;

namespace TokenCounting;

/// <summary>
/// What an Azure OpenAI account bills as the prompt of a chat request, as the mock accounts report it in
/// <c>usage</c> and charge it to a deployment's quota. It copies Azure OpenAI's counting (OpenAI's per-message rule,
/// <see cref="ChatMessages"/>, the figures Azure reports for text prompts), with every content part that has no text
/// counted by its JSON: Azure bills an image by its size and detail, which the mock does not model. The Responses
/// API's input is billed as the chat messages it amounts to.
/// </summary>
internal static class AzureOpenAIPromptBilling
{
    /// <summary>The prompt tokens of chat <paramref name="messages"/>.</summary>
    public static int Messages(TokenCounter counter, JsonElement messages) => ChatMessages.Count(counter, messages, imageTokens: null);
}
