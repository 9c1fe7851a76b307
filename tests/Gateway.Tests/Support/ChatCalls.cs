using System.Text;

namespace Gateway.Tests.Support;

/// <summary>The call most gateway tests make: a chat completion POSTed with the chat app's subscription key.</summary>
internal static class ChatCalls
{
    public const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";

    /// <summary>A chat body with one user message, for a test whose backend or policy reads the messages.</summary>
    public const string OneUserMessage = """{"messages":[{"role":"user","content":"hi"}]}""";

    /// <summary>
    /// POSTs <paramref name="body"/> as JSON to <paramref name="path"/> with <c>api-key: </c><paramref name="key"/> (none when
    /// null) and <paramref name="headers"/>, added as given (unvalidated, so a test can send a malformed one), and waits at
    /// most <see cref="TestTimeouts.Request"/> for the answer, its body read unless <paramref name="completion"/> says headers only.
    /// </summary>
    public static async Task<HttpResponseMessage> PostChatAsync(
        this HttpClient client,
        string path = ChatPath,
        string body = "{}",
        string? key = GatewayFactory.PrimaryKey,
        IEnumerable<(string Name, string Value)>? headers = null,
        HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.Add("api-key", key);
        }

        foreach (var (name, value) in headers ?? [])
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request, completion).WaitAsync(TestTimeouts.Request);
    }
}
