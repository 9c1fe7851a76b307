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
    private readonly byte[] _body;
    private int? _promptTokens;

    private ModelRequest(byte[] body, string? model, bool stream, bool includeUsage)
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

    /// <param name="body">The request body as the policy holds it.</param>
    /// <param name="deployment">The deployment named by the path, which stands for the model when the body names none.</param>
    public static ModelRequest Parse(ReadOnlyMemory<byte> body, string? deployment)
    {
        var bytes = body.ToArray();
        try
        {
            using var document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new ModelRequest([], deployment, false, false);
            }

            var model = root.TryGetProperty("model", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString() : deployment;
            var stream = root.TryGetProperty("stream", out var streamed) && streamed.ValueKind == JsonValueKind.True;
            var includeUsage = root.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
                && options.TryGetProperty("include_usage", out var include) && include.ValueKind == JsonValueKind.True;
            return new ModelRequest(bytes, model, stream, stream && includeUsage);
        }
        catch (JsonException)
        {
            // Not JSON: nothing to stream, nothing to estimate.
            return new ModelRequest([], deployment, false, false);
        }
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
