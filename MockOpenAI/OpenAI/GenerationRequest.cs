using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using TokenCounting;

namespace MockOpenAI.OpenAI;

/// <summary>What a chat or text completion request asks for, and the choices the mock answers with.</summary>
internal sealed record GenerationRequest(int PromptTokens, int CompletionLimit, IReadOnlyList<GeneratedChoice> Choices, bool Stream, bool IncludeUsage, int? RequestedLimit = null)
{
    /// <summary>The most choices (<c>n</c>) a request may ask for.</summary>
    public const int MaxChoices = 128;

    /// <summary>The most stop sequences a request may give.</summary>
    public const int MaxStopSequences = 4;

    /// <summary>The largest completion limit accepted (above any model's output), so estimates cannot overflow.</summary>
    public const int MaxCompletionLimit = 1 << 20;

    /// <summary>Completion length when the request sets no limit (also OpenAI's default <c>max_tokens</c> for completions).</summary>
    public const int DefaultCompletionTokens = 16;

    /// <summary>What the quota charges at admission: the prompt plus every completion token the request allows, per choice.</summary>
    public int EstimatedTokens => PromptTokens + (CompletionLimit * Choices.Count);

    public int CompletionTokens => Choices.Sum(c => c.Tokens);

    /// <summary>
    /// The limit a whole answer (JSON, a tool call) is cut at: the request's own, or none. Only free text stops at
    /// <see cref="DefaultCompletionTokens"/> when the request sets no limit.
    /// </summary>
    public int AnswerLimit => RequestedLimit ?? MaxCompletionLimit;

    /// <summary>
    /// Reads the limits, choices, stop sequences and stream options shared by chat and text completions. Each choice
    /// is seeded from the raw body and its index, never longer than the limit, cut before the first stop sequence it
    /// contains (finish reason <c>stop</c>), and ends with <c>length</c> when the limit cut it.
    /// </summary>
    /// <param name="body">The request.</param>
    /// <param name="rawBody">The request as sent, which seeds the answer.</param>
    /// <param name="promptTokens">The prompt's tokens.</param>
    /// <param name="tokens">The model's tokenizer.</param>
    /// <param name="allowCompletionTokens">Whether <c>max_completion_tokens</c> is understood (chat).</param>
    /// <param name="limitName">The name of the completion limit.</param>
    /// <param name="prompts">How many prompts the request holds (text completions take several): <c>n</c> choices each.</param>
    /// <param name="choicesAndStops">Whether <c>n</c> and <c>stop</c> apply (not on the Responses API).</param>
    /// <param name="format">
    /// The format the answer must take (<see cref="OutputFormat.FromChat"/>, <see cref="OutputFormat.FromResponses"/>);
    /// free text when null. A JSON answer is as long as its value, cut (finish reason <c>length</c>) only by the
    /// request's own limit.
    /// </param>
    public static GenerationRequest Read(JsonElement body, string rawBody, int promptTokens, TokenCounter tokens, bool allowCompletionTokens, string limitName = "max_tokens", int prompts = 1, bool choicesAndStops = true, OutputFormat? format = null)
    {
        var limit = (allowCompletionTokens ? ReadLimit(body, "max_completion_tokens") : null) ?? ReadLimit(body, limitName);
        var stream = body.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var includeUsage = body.TryGetProperty("stream_options", out var options) && options.ValueKind == JsonValueKind.Object
            && options.TryGetProperty("include_usage", out var usage) && usage.ValueKind == JsonValueKind.True;
        var n = choicesAndStops ? ReadLimit(body, "n") ?? 1 : 1;
        if (n > MaxChoices)
        {
            throw new BadRequestException(string.Create(CultureInfo.InvariantCulture, $"'n' must be at most {MaxChoices}."), "n");
        }

        n *= prompts;
        var stops = choicesAndStops ? ReadStops(body) : [];
        var length = Math.Min(limit ?? DefaultCompletionTokens, DefaultCompletionTokens);
        var cutByLimit = limit is { } max && max < DefaultCompletionTokens;
        var seed = SyntheticText.Seed(rawBody);
        var choices = Enumerable.Range(0, n)
            .Select(i => format?.Generate(seed + i) is { } json
                ? GeneratedChoice.ForJson(json, limit, stops, tokens)
                : GeneratedChoice.Create(SyntheticText.NextWords(seed + i, length), stops, cutByLimit ? "length" : "stop", tokens))
            .ToList();
        return new GenerationRequest(promptTokens, limit ?? DefaultCompletionTokens, choices, stream, includeUsage, limit);
    }

    private static List<string> ReadStops(JsonElement body)
    {
        if (!body.TryGetProperty("stop", out var stop) || stop.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        List<string> stops = stop.ValueKind switch
        {
            JsonValueKind.String => [stop.GetString()!],
            JsonValueKind.Array when stop.EnumerateArray().All(s => s.ValueKind == JsonValueKind.String) => [.. stop.EnumerateArray().Select(s => s.GetString()!)],
            _ => throw new BadRequestException("'stop' must be a string or an array of strings.", "stop"),
        };
        if (stops.Count > MaxStopSequences || stops.Any(s => s.Length == 0))
        {
            throw new BadRequestException(string.Create(CultureInfo.InvariantCulture, $"'stop' takes up to {MaxStopSequences} non-empty sequences."), "stop");
        }

        return stops;
    }

    /// <summary>
    /// The order a stream sends the choices' pieces in: position by position, choice by choice. The first piece at a
    /// position is <see cref="ChunkKind.Content"/> (it waits for the next token), the others travel with it, so the
    /// stream keeps the longest choice's pace.
    /// </summary>
    public IEnumerable<(ChunkKind Kind, int Index, string Piece)> StreamedPieces()
    {
        var longest = Choices.Max(c => c.Pieces.Count);
        for (var position = 0; position < longest; position++)
        {
            var first = true;
            for (var index = 0; index < Choices.Count; index++)
            {
                if (position < Choices[index].Pieces.Count)
                {
                    yield return (first ? ChunkKind.Content : ChunkKind.OtherChoice, index, Choices[index].Pieces[position]);
                    first = false;
                }
            }
        }
    }

    public JsonObject Usage() => new()
    {
        ["prompt_tokens"] = PromptTokens,
        ["completion_tokens"] = CompletionTokens,
        ["total_tokens"] = PromptTokens + CompletionTokens,
    };

    private static int? ReadLimit(JsonElement body, string name)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var limit) || limit < 1 || limit > MaxCompletionLimit)
        {
            throw new BadRequestException(string.Create(CultureInfo.InvariantCulture, $"'{name}' must be an integer from 1 to {MaxCompletionLimit}."), name);
        }

        return limit;
    }
}

/// <summary>
/// One generated answer: its pieces (one token each), its token count and why it ended. A tool call's pieces are its
/// arguments.
/// </summary>
internal sealed record GeneratedChoice(IReadOnlyList<string> Pieces, int Tokens, string FinishReason, ToolCall? Call = null)
{
    public string Text => string.Concat(Pieces);

    /// <summary>A tool call as the answer; its name and arguments are what it costs, within the completion limit.</summary>
    public static GeneratedChoice ForCall(ToolCall call, int limit, TokenCounter tokens)
    {
        var cost = tokens.Count(call.Name) + tokens.Count(call.Arguments);
        if (cost <= limit)
        {
            return new GeneratedChoice(call.ArgumentPieces, cost, "tool_calls", call);
        }

        // Cut the arguments where the limit ends them, as the model would.
        var arguments = call.Arguments;
        while (arguments.Length > 0 && tokens.Count(call.Name) + tokens.Count(arguments) > limit)
        {
            arguments = arguments[..^1];
        }

        // A name longer than the limit still goes out whole; the usage never reports more than the limit.
        var cut = call with { Arguments = arguments };
        return new GeneratedChoice(cut.ArgumentPieces, Math.Min(limit, tokens.Count(call.Name) + tokens.Count(arguments)), "length", cut);
    }

    /// <summary>
    /// A JSON answer in token-sized pieces: whole, or its first <paramref name="limit"/> tokens (finish reason
    /// <c>length</c>, the JSON left unterminated as the model leaves it), then cut before any stop sequence.
    /// </summary>
    public static GeneratedChoice ForJson(string json, int? limit, IReadOnlyList<string> stops, TokenCounter tokens)
    {
        var pieces = tokens.Pieces(json);
        if (limit is not { } max || tokens.Count(json) <= max)
        {
            return Create(pieces, stops, "stop", tokens);
        }

        var cut = Create([.. pieces.Take(max)], stops, "length", tokens);

        // Re-tokenizing the cut text can merge its last pieces differently; the usage never reports more than the limit.
        return cut with { Tokens = Math.Min(cut.Tokens, max) };
    }

    /// <summary>Cuts <paramref name="words"/> before the earliest stop sequence, if any occurs.</summary>
    public static GeneratedChoice Create(IReadOnlyList<string> words, IReadOnlyList<string> stops, string finishReason, TokenCounter tokens)
    {
        var text = string.Concat(words);
        var cut = stops.Select(s => text.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut < 0)
        {
            return new GeneratedChoice(words, tokens.Count(text), finishReason);
        }

        var pieces = new List<string>();
        var length = 0;
        foreach (var word in words)
        {
            if (length + word.Length <= cut)
            {
                pieces.Add(word);
                length += word.Length;
                continue;
            }

            if (cut > length)
            {
                pieces.Add(word[..(cut - length)]);
            }

            break;
        }

        return new GeneratedChoice(pieces, tokens.Count(string.Concat(pieces)), "stop");
    }
}
