using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Support;

/// <summary>Answers of an Azure OpenAI deployment for <see cref="RecordingBackend.Answer"/>: a chat completion with usage, or a stream of chunks.</summary>
internal static class ModelAnswers
{
    /// <summary>A user message of "Hello world" to gpt-4o: 3 + 1 ("user") + 2 ("Hello world") + 3 = 9 prompt tokens by OpenAI's rule.</summary>
    public const string HelloWorldChat = """{"messages":[{"role":"user","content":"Hello world"}]}""";

    /// <summary>The prompt tokens of <see cref="HelloWorldChat"/>.</summary>
    public const int HelloWorldPromptTokens = 9;

    /// <summary><see cref="HelloWorldChat"/> streamed, with or without a usage chunk.</summary>
    public static string HelloWorldStream(bool includeUsage) => includeUsage
        ? """{"messages":[{"role":"user","content":"Hello world"}],"stream":true,"stream_options":{"include_usage":true}}"""
        : """{"messages":[{"role":"user","content":"Hello world"}],"stream":true}""";

    /// <summary>A chat completion whose usage reports these tokens.</summary>
    public static Func<HttpContext, Task> Completion(int promptTokens, int completionTokens) => async context =>
    {
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(
            $$$"""{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":{{{promptTokens}}},"completion_tokens":{{{completionTokens}}},"total_tokens":{{{promptTokens + completionTokens}}}}}""",
            context.RequestAborted);
    };

    /// <summary>
    /// A chat completion streamed as server-sent events, each event flushed: the role, the first content piece, then
    /// once <paramref name="rest"/> completes the other pieces, a usage chunk when <paramref name="usage"/> is given
    /// (as for a request with <c>stream_options.include_usage</c>), and [DONE].
    /// </summary>
    public static Func<HttpContext, Task> Stream(string[] pieces, (int Prompt, int Completion)? usage, Task rest) => async context =>
    {
        var nullUsage = usage is null ? string.Empty : ""","usage":null""";
        context.Response.ContentType = "text/event-stream";
        await Event(context, $$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]{{nullUsage}}}""");
        await Event(context, Chunk(pieces[0], nullUsage));
        await rest.WaitAsync(TestTimeouts.Request, context.RequestAborted);
        foreach (var piece in pieces.Skip(1))
        {
            await Event(context, Chunk(piece, nullUsage));
        }

        if (usage is var (prompt, completion))
        {
            await Event(context, $$$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":{{{prompt}}},"completion_tokens":{{{completion}}},"total_tokens":{{{prompt + completion}}}}}""");
        }

        await Event(context, "[DONE]");
    };

    private static string Chunk(string piece, string nullUsage) =>
        $$"""{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":{{JsonSerializer.Serialize(piece)}}},"finish_reason":null}]{{nullUsage}}}""";

    private static async Task Event(HttpContext context, string data)
    {
        await context.Response.WriteAsync("data: " + data + "\n\n", Encoding.UTF8, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
