using System.Text.Json;
using TokenCounting;

namespace Gateway.Tokens;

/// <summary>
/// What the token policies need from a request to a model: whether it streams (and asks for a usage chunk), the model
/// whose tokenizer counts it, and its prompt tokens, estimated once from the body (chat <c>messages</c>, completions
/// <c>prompt</c>, embeddings and responses <c>input</c> with <c>instructions</c>).
/// </summary>
internal sealed class ModelRequest
{
    private readonly ReadOnlyMemory<byte> _body;
    private int? _promptTokens;

    private ModelRequest(ReadOnlyMemory<byte> body, string? model, bool stream, bool includeUsage)
    {
        _body = body;
        Stream = stream;
        IncludeUsage = includeUsage;
        Counter = TokenCounter.ForModel(model);
    }

    /// <summary>Whether the request sets <c>stream: true</c>.</summary>
    public bool Stream { get; }

    /// <summary>Whether a streamed request sets <c>stream_options.include_usage: true</c>, so its last chunk reports usage.</summary>
    public bool IncludeUsage { get; }

    /// <summary>The tokenizer of the request's model.</summary>
    public TokenCounter Counter { get; }

    /// <summary>The prompt's tokens as API Management estimates them (<see cref="ApimPromptEstimate"/>); computed on first use.</summary>
    public int PromptTokens => _promptTokens ??= EstimatePrompt();

    /// <summary>
    /// Reads the body's top-level <c>model</c>, <c>stream</c> and <c>stream_options</c> in one pass of a reader, without
    /// building a document (the estimate builds one, if it is asked for). A body that is not one JSON object streams
    /// nothing and estimates nothing. Where a name appears twice, the last one counts, as
    /// <see cref="JsonElement.TryGetProperty(string, out JsonElement)"/> reads it.
    /// </summary>
    /// <param name="body">The request body as the policy holds it: a body is replaced, never changed in place, so it is not copied.</param>
    /// <param name="deployment">The deployment named by the path, which stands for the model when the body names none.</param>
    public static ModelRequest Parse(ReadOnlyMemory<byte> body, string? deployment)
    {
        var reader = new Utf8JsonReader(body.Span);
        (int At, int Length)? model = null;
        bool stream = false, includeUsage = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return NotAnObject(deployment);
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("model"u8))
                {
                    reader.Read();
                    // Decoded once the whole body has read well, and only the last one: the quotes and what is between.
                    model = reader.TokenType == JsonTokenType.String ? ((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2) : null;
                }
                else if (reader.ValueTextEquals("stream"u8))
                {
                    reader.Read();
                    stream = reader.TokenType == JsonTokenType.True;
                }
                else if (reader.ValueTextEquals("stream_options"u8))
                {
                    reader.Read();
                    includeUsage = reader.TokenType == JsonTokenType.StartObject && IncludesUsage(ref reader);
                }
                else
                {
                    reader.Read();
                }

                reader.Skip();
            }

            // Only white space may follow the object: the reader throws on anything else.
            reader.Read();
            return new ModelRequest(body, Decode(body.Span, model) ?? deployment, stream, stream && includeUsage);
        }
        catch (JsonException)
        {
            return NotAnObject(deployment);
        }
    }

    /// <summary>
    /// The model's name from its string token; null (the deployment stands for it) when the string cannot be decoded
    /// (invalid UTF-8 or a lone surrogate escape, which the reader lets by until the string is read).
    /// </summary>
    private static string? Decode(ReadOnlySpan<byte> body, (int At, int Length)? token)
    {
        if (token is not var (at, length))
        {
            return null;
        }

        var reader = new Utf8JsonReader(body.Slice(at, length));
        reader.Read();
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>A body that is not one JSON object (or not JSON): nothing to stream, nothing to estimate.</summary>
    private static ModelRequest NotAnObject(string? deployment) => new(default, deployment, false, false);

    /// <summary><c>stream_options.include_usage</c>, the reader on the object's start; leaves it on the object's end.</summary>
    private static bool IncludesUsage(ref Utf8JsonReader reader)
    {
        var include = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var named = reader.ValueTextEquals("include_usage"u8);
            reader.Read();
            if (named)
            {
                include = reader.TokenType == JsonTokenType.True;
            }

            reader.Skip();
        }

        return include;
    }

    private int EstimatePrompt()
    {
        if (_body.Length == 0)
        {
            return 0;
        }

        using var document = JsonDocument.Parse(_body);
        return ApimPromptEstimate.Count(Counter, document.RootElement);
    }
}
