using System.Buffers;
using System.Text;
using System.Text.Json;
using TokenCounting;

namespace Gateway.Tokens;

/// <summary>
/// Follows a model's event stream as it goes by, line by line, holding only the line in progress: it keeps the usage
/// a chunk reports (the last chunk, when the request set <c>stream_options.include_usage</c>) and the generated text of
/// every choice (content, refusals, tool-call arguments, completions text, responses deltas), to count when no chunk
/// reports usage. Each chunk, parsed, is also shown to <c>onChunk</c> when given (the GenAI telemetry reads the model,
/// id and finish reasons from it).
/// </summary>
internal sealed class StreamedUsageReader(TokenCounter counter, Action<JsonElement>? onChunk = null)
{
    /// <summary>A longer line is skipped rather than held.</summary>
    public const int MaxLineBytes = 1024 * 1024;

    private static readonly byte[] DataPrefix = "data:"u8.ToArray();

    private readonly ArrayBufferWriter<byte> _line = new();
    private readonly SortedDictionary<int, StringBuilder> _texts = [];
    private bool _skipping;
    private TokenUsage? _reported;

    /// <summary>Reads the next bytes of the stream.</summary>
    public void Write(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            var end = bytes.IndexOf((byte)'\n');
            var part = end < 0 ? bytes : bytes[..end];
            if (!_skipping)
            {
                if (_line.WrittenCount + part.Length > MaxLineBytes)
                {
                    _skipping = true;
                    _line.Clear();
                }
                else
                {
                    _line.Write(part);
                }
            }

            if (end < 0)
            {
                return;
            }

            if (!_skipping)
            {
                ReadLine(_line.WrittenSpan);
            }

            _line.Clear();
            _skipping = false;
            bytes = bytes[(end + 1)..];
        }
    }

    /// <summary>The usage a chunk reported, or else the prompt estimate and the generated text counted.</summary>
    public TokenUsage Result(long promptTokens)
    {
        Flush();
        return _reported ?? TokenUsage.Estimate(promptTokens, _texts.Values.Sum(text => (long)counter.Count(text.ToString())));
    }

    /// <summary>Reads a last line that has no final newline (a stream cut after it).</summary>
    public void Flush()
    {
        if (!_skipping && _line.WrittenCount > 0)
        {
            ReadLine(_line.WrittenSpan);
            _line.Clear();
        }
    }

    private void ReadLine(ReadOnlySpan<byte> line)
    {
        line = line.TrimEnd((byte)'\r');
        if (!line.StartsWith(DataPrefix))
        {
            return;
        }

        var data = line[DataPrefix.Length..].TrimStart((byte)' ');
        if (data.IsEmpty || data[0] != (byte)'{')
        {
            // [DONE], or not JSON.
            return;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            using var document = JsonDocument.ParseValue(ref reader);
            var chunk = document.RootElement;
            if (UsageJson.From(chunk) is { } usage)
            {
                _reported = usage;
            }

            CollectText(chunk);
            onChunk?.Invoke(chunk);
        }
        catch (JsonException)
        {
            // A malformed event is the client's business; it counts for nothing here.
        }
    }

    private void CollectText(JsonElement chunk)
    {
        if (chunk.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (chunk.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                if (choice.TryGetProperty("text", out var text))
                {
                    Append(index, text);
                }

                if (choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object)
                {
                    Append(index, delta.TryGetProperty("content", out var content) ? content : default);
                    Append(index, delta.TryGetProperty("refusal", out var refusal) ? refusal : default);
                    if (delta.TryGetProperty("tool_calls", out var calls) && calls.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var call in calls.EnumerateArray())
                        {
                            if (call.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object)
                            {
                                Append(index, function.TryGetProperty("name", out var name) ? name : default);
                                Append(index, function.TryGetProperty("arguments", out var arguments) ? arguments : default);
                            }
                        }
                    }
                }
            }
        }
        else if (chunk.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String
            && type.GetString()!.EndsWith(".delta", StringComparison.Ordinal) && chunk.TryGetProperty("delta", out var responseDelta))
        {
            // Responses API: response.output_text.delta and the like.
            Append(chunk.TryGetProperty("output_index", out var o) && o.TryGetInt32(out var output) ? output : 0, responseDelta);
        }
    }

    private void Append(int index, JsonElement text)
    {
        if (text.ValueKind != JsonValueKind.String)
        {
            return;
        }

        if (!_texts.TryGetValue(index, out var builder))
        {
            builder = new StringBuilder();
            _texts[index] = builder;
        }

        builder.Append(text.GetString());
    }
}
