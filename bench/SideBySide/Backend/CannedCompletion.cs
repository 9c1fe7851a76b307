using System.Text;
using System.Text.Json;

namespace Gateway.Bench.SideBySide.Backend;

/// <summary>
/// The trivial backend's only answers: one chat completion as Azure OpenAI writes it (629 bytes, with usage), and the
/// same completion as server-sent events (a prompt-filter event, the role, three content deltas, the finish, a usage
/// event, <c>[DONE]</c>).
/// </summary>
internal static class CannedCompletion
{
    private const string Id = "chatcmpl-bench0000000000000000000000000";
    private const string Model = "gpt-4o-2024-11-20";
    private const string Usage = """{"completion_tokens":16,"prompt_tokens":9,"total_tokens":25}""";
    private const string ChunkHead = $$"""{"choices":[{"content_filter_results":{},"delta":""";
    private const string ChunkTail = $$""","created":1735689600,"id":"{{Id}}","model":"{{Model}}","object":"chat.completion.chunk","system_fingerprint":"fp_bench00000"}""";

    public static readonly byte[] Json = Encoding.UTF8.GetBytes(
        $$$"""{"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello! I am the benchmark's canned answer; how can I help today","refusal":null,"role":"assistant"}}],"created":1735689600,"id":"{{{Id}}}","model":"{{{Model}}}","object":"chat.completion","system_fingerprint":"fp_bench00000","usage":""" + Usage + "}");

    /// <summary>Each event ready to write (<c>data: ...</c> and the blank line), flushed one by one.</summary>
    public static readonly IReadOnlyList<byte[]> Events =
    [
        Event("""{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}"""),
        Event(ChunkHead + """{"content":"","refusal":null,"role":"assistant"},"finish_reason":null,"index":0,"logprobs":null}]""" + ChunkTail),
        Event(ChunkHead + """{"content":"Hello! I am the benchmark's"},"finish_reason":null,"index":0,"logprobs":null}]""" + ChunkTail),
        Event(ChunkHead + """{"content":" canned answer;"},"finish_reason":null,"index":0,"logprobs":null}]""" + ChunkTail),
        Event(ChunkHead + """{"content":" how can I help today"},"finish_reason":null,"index":0,"logprobs":null}]""" + ChunkTail),
        Event(ChunkHead + """{},"finish_reason":"stop","index":0,"logprobs":null}]""" + ChunkTail),
        Event($$"""{"choices":[],"created":1735689600,"id":"{{Id}}","model":"{{Model}}","object":"chat.completion.chunk","system_fingerprint":"fp_bench00000","usage":""" + Usage + "}"),
        Event("[DONE]"),
    ];

    /// <summary>Whether the request body is a JSON object whose <c>stream</c> is <c>true</c>.</summary>
    public static async Task<bool> WantsStreamAsync(Stream body, CancellationToken cancellationToken)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(body, cancellationToken: cancellationToken);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("stream", out var stream)
                && stream.ValueKind == JsonValueKind.True;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static byte[] Event(string data) => Encoding.UTF8.GetBytes($"data: {data}\n\n");
}
