using System.Globalization;
using Gateway.Caching;
using Gateway.ContentSafety;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>llm-content-safety</c>: sends the request's text (every message's content, one a line) to Azure AI Content Safety
/// through the backend <c>backend-id</c> (<see cref="ContentSafetyCheck"/>) and blocks it with API Management's 403 when
/// a category reaches its threshold, a blocklist matches, or, with <c>shield-prompt</c>, Prompt Shields sees an attack.
/// With <c>enforce-on-completions</c> (inbound) the model's answer is checked the same way (<c>text:analyze</c>) once the
/// backend section ends; in the outbound section the element checks the answer itself. With <c>window-size</c> (and
/// <c>window-overlap-size</c>) a text is analyzed window by window (<see cref="TextWindows"/>). A streamed answer is
/// checked as it goes (<see cref="CheckedEventStream"/>): events are forwarded once their text has passed, and a
/// violation stops the stream instead of answering 403. A failed Content Safety call blocks as a violation does.
/// </summary>
internal sealed class LlmContentSafetyPolicy(
    ElementInfo info,
    PolicyValue backendId,
    PolicyValue? shieldPrompt,
    PolicyValue? enforceOnCompletions,
    PolicyValue? outputType,
    IReadOnlyList<(PolicyValue Name, PolicyValue Threshold)> categories,
    IReadOnlyList<PolicyValue> blocklists,
    PolicyValue? windowSize = null,
    PolicyValue? windowOverlap = null) : PolicyElement(info)
{
    /// <summary>The <c>context.LastError.Reason</c> of a blocked request or answer (as API Management's gateway logs name it).</summary>
    public const string Violated = "ContentSafetyPolicyViolated";

    /// <summary>The body of API Management's 403.</summary>
    public const string BlockedBody = """{"statusCode": 403, "message": "Request failed content safety check."}""";

    public static PolicyElement? Parse(ElementReader reader)
    {
        var backendId = reader.Value("backend-id", required: true);
        var shield = reader.Value("shield-prompt");
        var enforce = reader.Value("enforce-on-completions");
        var windowSize = reader.Value("window-size");
        var windowOverlap = reader.Value("window-overlap-size");
        if (windowSize is { IsExpression: false } size && !TryWindowSize(size.ToString(), out _))
        {
            reader.Error($"attribute 'window-size' of <{reader.Info.Name}> must be a whole number of at least 1, not '{size}'");
        }

        if (windowOverlap is { IsExpression: false } overlap && !TryWindowOverlap(overlap.ToString(), out _))
        {
            reader.Error($"attribute 'window-overlap-size' of <{reader.Info.Name}> must be a whole number of at least 0, not '{overlap}'");
        }
        else if (windowSize is { IsExpression: false } literalSize && windowOverlap is { IsExpression: false } literalOverlap
            && TryWindowSize(literalSize.ToString(), out var sizeValue) && TryWindowOverlap(literalOverlap.ToString(), out var overlapValue) && overlapValue >= sizeValue)
        {
            reader.Error($"attribute 'window-overlap-size' of <{reader.Info.Name}> must be less than window-size ({sizeValue}), not {overlapValue}");
        }

        PolicyValue? outputType = null;
        var categories = new List<(PolicyValue, PolicyValue)>();
        var blocklists = new List<PolicyValue>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var child in reader.Children("categories", "blocklists"))
        {
            var name = child.Name.LocalName;
            if (!seen.Add(name))
            {
                reader.Error($"<{name}> may appear only once inside <{reader.Info.Name}>");
                continue;
            }

            var container = reader.Reader(child, 1);
            if (name == "categories")
            {
                outputType = container.Value("output-type");
                if (outputType is { IsExpression: false } literal && !IsOutputType(literal.ToString()))
                {
                    container.Error($"attribute 'output-type' of <categories> must be {ContentSafetySettings.FourSeverityLevels} or {ContentSafetySettings.EightSeverityLevels}, not '{literal}'");
                }

                ReadCategories(container, categories);
            }
            else
            {
                blocklists.AddRange(container.Children("id").Select(id => container.TextValue(id)));
            }

            container.Finish();
        }

        return backendId is null ? null : new LlmContentSafetyPolicy(reader.Info, backendId, shield, enforce, outputType, categories, blocklists, windowSize, windowOverlap);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var settings = Evaluate(context);
        if (frame.Section == PolicySection.Outbound)
        {
            // On responses the attribute is ignored, as the reference says; Prompt Shields is for prompts.
            await CheckAnswerAsync(context, settings, frame);
            return PolicyFlow.Continue;
        }

        if (!context.RequestBody.IsBuffered)
        {
            context.RequestBody = await MessageBody.ReadAsync(context.HttpContext.Request, context.HttpContext.RequestAborted);
        }

        if (SemanticCachePrompt.AllText(context.RequestBody.Content) is { } prompt
            && await ContentSafetyCheck.ViolationAsync(context, Name, settings, prompt, settings.ShieldPrompt) is { } violation)
        {
            throw Blocked(violation);
        }

        if (Bool(context, enforceOnCompletions, "enforce-on-completions"))
        {
            context.BeforeOutbound(checkedContext => CheckAnswerAsync(checkedContext, settings, frame));
        }

        return PolicyFlow.Continue;
    }

    /// <summary>
    /// The model's answer, when the backend gave a successful one, through <c>text:analyze</c>: a JSON answer read whole
    /// (a violation goes to on-error with the 403), a streamed one (server-sent events still to be sent) window by window
    /// as it goes to the client (a violation stops it).
    /// </summary>
    private async Task CheckAnswerAsync(RequestContext context, ContentSafetySettings settings, ExecutionFrame frame)
    {
        var response = context.Response;
        if (response.BackendCall is null || response.StatusCode is < 200 or > 299 || !settings.Analyzes)
        {
            return;
        }

        var contentType = response.ContentType;
        if (response.Body is null && Tokens.UsageJson.IsEventStream(contentType))
        {
            response.FilterBody(events => new CheckedEventStream(
                events,
                settings.WindowSize,
                settings.WindowOverlap,
                ContentSafetyCheck.WindowAnalyzer(context, Name, settings),
                reason => TracePolicy.Write(context, Name, "information", $"Stopped forwarding the streamed answer: {reason}", [])));
            return;
        }

        try
        {
            var body = await response.ReadWholeAsync(context.HttpContext.RequestAborted) ?? [];
            if (CompletionText.Of(body, contentType) is { } answer
                && await ContentSafetyCheck.ViolationAsync(context, Name, settings, answer, shield: false) is { } violation)
            {
                throw Blocked(violation);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The answer broke off while it was read: it cannot be checked, and the client could not get it whole anyway.
            throw Located(new PolicyExecutionException(Name, ErrorReasons.BackendConnectionFailure, "The model's answer could not be read to check it.", ex), frame);
        }
        catch (PolicyExecutionException ex) when (ex.Error is null && frame.Section != PolicySection.Outbound)
        {
            Located(ex, frame);
            throw;
        }
    }

    /// <summary>
    /// Run after the backend section, outside the runner, an error names this element where it stands (in outbound the
    /// runner does it).
    /// </summary>
    private PolicyExecutionException Located(PolicyExecutionException error, ExecutionFrame frame)
    {
        if (frame.Section != PolicySection.Outbound)
        {
            error.Error = new LastError(error.Source, error.Reason, error.Message, frame.Document.Scope.ToApimName(), frame.Section.ToXmlName(), Info.Path, Info.PolicyId);
        }

        return error;
    }

    private ContentSafetySettings Evaluate(RequestContext context)
    {
        var backend = backendId.EvaluateString(context, Name);
        if (string.IsNullOrEmpty(backend))
        {
            throw Invalid("backend-id must name a backend.");
        }

        var type = outputType?.EvaluateString(context, Name) ?? ContentSafetySettings.FourSeverityLevels;
        if (!IsOutputType(type))
        {
            throw Invalid($"output-type must be {ContentSafetySettings.FourSeverityLevels} or {ContentSafetySettings.EightSeverityLevels}, not '{type}'.");
        }

        var thresholds = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (nameValue, thresholdValue) in categories)
        {
            var name = nameValue.EvaluateString(context, Name);
            if (name is null || !ContentSafetySettings.Categories.Contains(name, StringComparer.Ordinal))
            {
                throw Invalid($"a category must be one of {string.Join(", ", ContentSafetySettings.Categories)}, not '{name}'.");
            }

            var text = thresholdValue.EvaluateString(context, Name);
            if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var threshold) || threshold is < 0 or > 7)
            {
                throw Invalid($"the threshold of category {name} must be a whole number from 0 to 7, not '{text}'.");
            }

            thresholds[name] = threshold;
        }

        var lists = blocklists.Select(b => b.EvaluateString(context, Name)?.Trim()).Where(b => !string.IsNullOrEmpty(b)).Select(b => b!).ToList();
        var (size, overlap) = Windows(context);
        return new ContentSafetySettings(backend, Bool(context, shieldPrompt, "shield-prompt"), type, thresholds, lists, size, overlap);
    }

    /// <summary><c>window-size</c> (null: one window) and <c>window-overlap-size</c> (ignored without a size: nothing to overlap).</summary>
    private (int? Size, int Overlap) Windows(RequestContext context)
    {
        var sizeText = windowSize?.EvaluateString(context, Name);
        if (sizeText is null)
        {
            return (null, 0);
        }

        if (!TryWindowSize(sizeText, out var size))
        {
            throw Invalid($"window-size must be a whole number of at least 1, not '{sizeText}'.");
        }

        var overlapText = windowOverlap?.EvaluateString(context, Name);
        if (overlapText is null)
        {
            return (size, 0);
        }

        if (!TryWindowOverlap(overlapText, out var overlap) || overlap >= size)
        {
            throw Invalid($"window-overlap-size must be a whole number from 0 to window-size - 1 ({size - 1}), not '{overlapText}'.");
        }

        return (size, overlap);
    }

    private static bool TryWindowSize(string text, out int size) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size) && size >= 1;

    private static bool TryWindowOverlap(string text, out int overlap) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out overlap);

    private bool Bool(RequestContext context, PolicyValue? value, string attribute)
    {
        var text = value?.EvaluateString(context, Name);
        if (text is null)
        {
            return false;
        }

        return bool.TryParse(text, out var result) ? result : throw Invalid($"{attribute} must be true or false, not '{text}'.");
    }

    private PolicyExecutionException Invalid(string message) => new(Name, ErrorReasons.ExpressionValueEvaluationFailure, message);

    private PolicyExecutionException Blocked(string detail) =>
        new(Name, Violated, detail) { Response = ResponseState.Json(StatusCodes.Status403Forbidden, "Forbidden", BlockedBody) };

    private static bool IsOutputType(string value) => value is ContentSafetySettings.FourSeverityLevels or ContentSafetySettings.EightSeverityLevels;

    private static void ReadCategories(ElementReader container, List<(PolicyValue, PolicyValue)> categories)
    {
        var children = container.Children("category");
        for (var i = 0; i < children.Count; i++)
        {
            var category = container.Reader(children[i], i + 1);
            var name = category.Value("name", required: true);
            var threshold = category.Value("threshold", required: true);
            category.Finish();
            if (name is { IsExpression: false } && !ContentSafetySettings.Categories.Contains(name.ToString(), StringComparer.Ordinal))
            {
                category.Error($"attribute 'name' of <category> must be one of {string.Join(", ", ContentSafetySettings.Categories)}, not '{name}'");
            }

            if (threshold is { IsExpression: false }
                && !(int.TryParse(threshold.ToString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var level) && level is >= 0 and <= 7))
            {
                category.Error($"attribute 'threshold' of <category> must be a whole number from 0 to 7, not '{threshold}'");
            }

            if (name is not null && threshold is not null)
            {
                categories.Add((name, threshold));
            }
        }
    }
}
