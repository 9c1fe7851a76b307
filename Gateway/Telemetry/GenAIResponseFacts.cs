using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Tokens;

namespace Gateway.Telemetry;

/// <summary>
/// What a model's answer says about itself, read from its JSON body or from each chunk of its event stream: the model
/// and id, the finish reasons (a Responses turn's status stands for its finish reason), the usage it reports, and, when
/// content is captured, the text of each choice.
/// </summary>
internal sealed class GenAIResponseFacts(bool captureText)
{
    private readonly List<string> _finishReasons = [];
    private readonly SortedDictionary<int, StringBuilder> _texts = [];
    private string? _status;

    public string? Model { get; private set; }

    public string? Id { get; private set; }

    public TokenUsage? Usage { get; private set; }

    public IReadOnlyList<string> FinishReasons => _status is null ? _finishReasons : [_status];

    /// <summary>Reads a whole JSON body.</summary>
    public void ReadBody(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            Read(document.RootElement);
        }
        catch (JsonException)
        {
            // Not JSON (an HTML error page, say): nothing to tell.
        }
    }

    /// <summary>Reads a response body or one streamed chunk.</summary>
    public void Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (UsageJson.From(root) is { } usage)
        {
            Usage = usage;
        }

        if (root.TryGetProperty("response", out var response) && response.ValueKind == JsonValueKind.Object)
        {
            // A Responses stream's response.created / response.completed event.
            Read(response);
            return;
        }

        Model = String(root, "model") ?? Model;
        Id = String(root, "id") ?? Id;
        if (String(root, "object") == "response")
        {
            _status = String(root, "status") ?? _status;
            if (captureText && root.TryGetProperty("output", out var output) && output.ValueKind == JsonValueKind.Array && _texts.Count == 0)
            {
                ReadResponseOutput(output);
            }

            return;
        }

        if (root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array)
        {
            foreach (var choice in choices.EnumerateArray())
            {
                if (String(choice, "finish_reason") is { } reason)
                {
                    _finishReasons.Add(reason);
                }

                if (captureText)
                {
                    var index = choice.TryGetProperty("index", out var i) && i.TryGetInt32(out var n) ? n : 0;
                    Append(index, String(choice, "text"));
                    Append(index, choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object ? String(message, "content") : null);
                    Append(index, choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object ? String(delta, "content") : null);
                }
            }
        }
        else if (captureText && String(root, "type") == "response.output_text.delta")
        {
            Append(root.TryGetProperty("output_index", out var o) && o.TryGetInt32(out var index) ? index : 0, String(root, "delta"));
        }
    }

    /// <summary>The answer as the conventions' output messages (JSON), or null when no text was captured.</summary>
    public string? OutputMessages()
    {
        if (_texts.Count == 0)
        {
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            var position = 0;
            foreach (var (_, text) in _texts)
            {
                GenAIMessages.WriteMessage(writer, "assistant", text.ToString(), position < FinishReasons.Count ? FinishReasons[position] : null);
                position++;
            }

            writer.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private void ReadResponseOutput(JsonElement output)
    {
        var index = 0;
        foreach (var item in output.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.Array)
            {
                foreach (var part in content.EnumerateArray())
                {
                    Append(index, part.ValueKind == JsonValueKind.Object ? String(part, "text") : null);
                }

                index++;
            }
        }
    }

    private void Append(int index, string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }

        if (!_texts.TryGetValue(index, out var builder))
        {
            builder = new StringBuilder();
            _texts[index] = builder;
        }

        builder.Append(text);
    }

    private static string? String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
