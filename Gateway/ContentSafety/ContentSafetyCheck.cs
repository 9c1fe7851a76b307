using System.Text.Json;
using System.Text.Json.Nodes;
using Gateway.Backends;
using Gateway.Forwarding;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Policies;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.ContentSafety;

/// <summary>
/// Sends one text to Azure AI Content Safety through a backend of the topology (its URL, e.g.
/// <c>https://&lt;name&gt;.cognitiveservices.azure.com</c>, and its credentials, normally a managed identity for
/// <c>https://cognitiveservices.azure.com</c>): <c>text:analyze</c> when a category or a blocklist is configured,
/// <c>text:shieldPrompt</c> when asked, at the GA api-version. The verdict is the first reason to block, or null.
/// A call that fails (no answer, a status other than 2xx, an unreadable body, no token) is a reason to block too:
/// API Management answers its 403 then (docs/fidelity.md, "llm-content-safety").
/// </summary>
internal static class ContentSafetyCheck
{
    /// <summary>The GA api-version of Azure AI Content Safety's text operations.</summary>
    public const string ApiVersion = "2024-09-01";

    /// <summary>The most text (Unicode code points) Azure AI Content Safety analyzes in one call.</summary>
    public const int MaxTextLength = 10_000;

    /// <summary>
    /// The most <c>text:analyze</c> calls one text (a prompt, or one streamed answer) may take. Each is a sequential call of
    /// up to <see cref="CallTimeout"/>, so a small <c>window-size</c> on a long text would hold the request for hours;
    /// past this many windows the text is blocked, as a failed call is. Our bound: API Management documents none.
    /// </summary>
    public const int MaxWindows = 100;

    public static readonly string TooManyWindows = $"The text needs more than {MaxWindows} windows of window-size to be analyzed.";

    /// <summary>How long one Content Safety call may take before it counts as failed.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The reason to block <paramref name="text"/>, or null when it passes: <c>text:analyze</c> window by window (the
    /// whole text when no <c>window-size</c> is set), then, with <paramref name="shield"/>, Prompt Shields on the whole text.
    /// </summary>
    public static async Task<string?> ViolationAsync(RequestContext context, string source, ContentSafetySettings settings, string text, bool shield)
    {
        if (settings.Analyzes)
        {
            IEnumerable<(int Start, int End)> windows = settings.WindowSize is { } size ? TextWindows.Of(text, size, settings.WindowOverlap) : [(0, text.Length)];
            var analyze = WindowAnalyzer(context, source, settings);
            foreach (var (start, end) in windows)
            {
                if (await analyze(text[start..end], context.HttpContext.RequestAborted) is { } found)
                {
                    return found;
                }
            }
        }

        return shield ? await ShieldAsync(context, source, settings, text) : null;
    }

    /// <summary>
    /// <see cref="AnalyzeAsync"/> for the windows of one text, in order: past <see cref="MaxWindows"/> of them, every
    /// further window is blocked without a call.
    /// </summary>
    public static Func<string, CancellationToken, Task<string?>> WindowAnalyzer(RequestContext context, string source, ContentSafetySettings settings)
    {
        var analyzed = 0;
        return (window, _) => ++analyzed > MaxWindows
            ? Task.FromResult<string?>(TooManyWindows)
            : AnalyzeAsync(context, source, settings, window);
    }

    /// <summary>The reason to block one window of text by <c>text:analyze</c>, or null when it passes (or nothing is configured to analyze).</summary>
    public static async Task<string?> AnalyzeAsync(RequestContext context, string source, ContentSafetySettings settings, string window)
    {
        if (!settings.Analyzes)
        {
            return null;
        }

        if (TooLong(window))
        {
            return $"The text is longer than the {MaxTextLength} characters Azure AI Content Safety analyzes.";
        }

        var request = new JsonObject { ["text"] = window };
        if (settings.Thresholds.Count > 0)
        {
            request["categories"] = new JsonArray([.. settings.Thresholds.Keys.Select(k => (JsonNode)k)]);
        }

        if (settings.Blocklists.Count > 0)
        {
            request["blocklistNames"] = new JsonArray([.. settings.Blocklists.Select(b => (JsonNode)b)]);
            request["haltOnBlocklistHit"] = true;
        }

        request["outputType"] = settings.OutputType;
        using var analysis = await CallAsync(context, source, Target(source, context, settings), "text:analyze", request);
        return analysis is null ? "The call to Azure AI Content Safety (text:analyze) failed." : Violation(analysis.RootElement, settings);
    }

    /// <summary>Whether <paramref name="text"/> is over the most Azure AI Content Safety takes in one call.</summary>
    public static bool TooLong(string text) => text.Length > MaxTextLength && text.EnumerateRunes().Count() > MaxTextLength;

    /// <summary>Prompt Shields on the whole text: the reason to block, or null when it sees no attack.</summary>
    private static async Task<string?> ShieldAsync(RequestContext context, string source, ContentSafetySettings settings, string text)
    {
        if (TooLong(text))
        {
            return $"The text is longer than the {MaxTextLength} characters Prompt Shields analyzes.";
        }

        using var attack = await CallAsync(context, source, Target(source, context, settings), "text:shieldPrompt", new JsonObject { ["userPrompt"] = text, ["documents"] = new JsonArray() });
        if (attack is null)
        {
            return "The call to Azure AI Content Safety (text:shieldPrompt) failed.";
        }

        return attack.RootElement.ValueKind == JsonValueKind.Object
            && attack.RootElement.TryGetProperty("userPromptAnalysis", out var user) && user.ValueKind == JsonValueKind.Object
            && user.TryGetProperty("attackDetected", out var detected) && detected.ValueKind == JsonValueKind.True
            ? "Prompt Shields detected a user prompt attack."
            : null;
    }

    private static BackendTarget Target(string source, RequestContext context, ContentSafetySettings settings) =>
        context.Services.Backends.TryGet(settings.BackendId, out var entity) && entity is Backend backend
            ? backend.Target
            : throw new PolicyExecutionException(source, ErrorReasons.BackendNotFound, $"Backend '{settings.BackendId}' is not a single backend of the topology.");

    /// <summary>A matched blocklist, or a category whose severity reaches its threshold.</summary>
    private static string? Violation(JsonElement result, ContentSafetySettings settings)
    {
        if (result.ValueKind != JsonValueKind.Object)
        {
            return "Azure AI Content Safety's answer is not a JSON object.";
        }

        if (result.TryGetProperty("blocklistsMatch", out var matches) && matches.ValueKind == JsonValueKind.Array && matches.GetArrayLength() > 0)
        {
            var first = matches[0];
            var name = first.ValueKind == JsonValueKind.Object && first.TryGetProperty("blocklistName", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : "?";
            return $"The text matched blocklist '{name}'.";
        }

        if (result.TryGetProperty("categoriesAnalysis", out var categories) && categories.ValueKind == JsonValueKind.Array)
        {
            foreach (var analysis in categories.EnumerateArray())
            {
                if (analysis.ValueKind == JsonValueKind.Object
                    && analysis.TryGetProperty("category", out var category) && category.ValueKind == JsonValueKind.String
                    && settings.Thresholds.TryGetValue(category.GetString()!, out var threshold)
                    && analysis.TryGetProperty("severity", out var severity) && severity.TryGetInt32(out var level)
                    && level >= threshold)
                {
                    return $"{category.GetString()} severity {level} reached the threshold {threshold}.";
                }
            }
        }

        return null;
    }

    /// <summary>POSTs to <c>{backend}/contentsafety/{operation}</c>; the parsed answer, or null when the call failed.</summary>
    private static async Task<JsonDocument?> CallAsync(RequestContext context, string source, BackendTarget target, string operation, JsonObject body)
    {
        var aborted = context.HttpContext.RequestAborted;
        try
        {
            var query = QueryHelpers.ParseQuery(target.Url.Query).ToDictionary(q => q.Key, q => q.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
            query["api-version"] = [ApiVersion];
            var headers = new HeaderDictionary { ["Content-Type"] = "application/json" };
            if (target.Credentials is { } credentials)
            {
                query = credentials.WithQuery(query);
                await credentials.ApplyAsync(headers, context.Services.ManagedIdentity, aborted);
            }

            var url = new Uri(target.Url.GetLeftPart(UriPartial.Path).TrimEnd('/') + "/contentsafety/" + operation + RequestContext.ToQueryString(query).ToUriComponent());
            var request = new PreparedRequest(
                url,
                HttpMethods.Post,
                headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase),
                JsonSerializer.SerializeToUtf8Bytes(body),
                Identity: null,
                CallTimeout);
            var response = await context.Services.SendRequests.SendAsync(request, source, aborted);
            if (response.StatusCode is < 200 or > 299)
            {
                context.Trace($"{source}: Azure AI Content Safety answered {operation} with {response.StatusCode}.");
                return null;
            }

            return JsonDocument.Parse(response.Body ?? ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested && ex is PolicyExecutionException or ManagedIdentityTokenException or JsonException)
        {
            // A timeout, a refused connection, no token or an unreadable answer: nothing was checked, so nothing passes.
            context.Trace($"{source}: the call to Azure AI Content Safety ({operation}) failed ({ex.GetType().Name}).");
            return null;
        }
    }
}
