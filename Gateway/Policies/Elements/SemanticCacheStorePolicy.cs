using System.Globalization;
using Gateway.Caching;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-semantic-cache-store</c> and <c>llm-semantic-cache-store</c>: after a lookup of the same request that
/// missed, caches the response for <c>duration</c> seconds under the lookup's prompt vector and partition. Only a 200 is
/// cached, unless <c>cache-response</c> (<c>llm-semantic-cache-store</c>) is true. The body is read whole: a buffered
/// backend response, one a policy set, or one forwarded with <c>buffer-response="false"</c> (read to its end, as reading
/// <c>context.Response.Body</c> reads it); never an event stream, which would be held back from the client.
/// </summary>
internal sealed class SemanticCacheStorePolicy(ElementInfo info, PolicyValue duration, PolicyValue? cacheResponse) : PolicyElement(info)
{
    /// <param name="reader">The element.</param>
    /// <param name="withCacheResponse">Whether the element has <c>cache-response</c> (the llm- one does).</param>
    public static PolicyElement? Parse(ElementReader reader, bool withCacheResponse)
    {
        var duration = reader.Value("duration", required: true);
        var cacheResponse = withCacheResponse ? reader.Value("cache-response") : null;
        if (reader.Element.ElementsBeforeSelf(reader.Element.Name).Any())
        {
            reader.Error($"<{reader.Info.Name}> may appear only once in a section");
        }

        reader.Children();
        return duration is null ? null : new SemanticCacheStorePolicy(reader.Info, duration, cacheResponse);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var seconds = duration.EvaluateString(context, Name);
        if (!int.TryParse(seconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ttl) || ttl < 0)
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidDuration, $"duration must be a whole number of seconds, not '{seconds}'.");
        }

        var anyStatus = false;
        if (cacheResponse?.EvaluateString(context, Name) is { } text && !bool.TryParse(text, out anyStatus))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"cache-response must be true or false, not '{text}'.");
        }

        var response = context.Response;
        if (ttl == 0
            || !context.TryGetSlot<SemanticCacheLookup>(out var lookup) || lookup is not { Vector: { } vector, Hit: false }
            || (!anyStatus && response.StatusCode != StatusCodes.Status200OK))
        {
            return PolicyFlow.Continue;
        }

        var contentType = response.ContentType;

        // The lookup lets no `stream: true` request through; events a backend streams anyway are not read either: caching
        // them would hold the stream back from the client.
        if (response is { Body: null, BackendBodyBuffered: false } && Tokens.UsageJson.IsEventStream(contentType))
        {
            return PolicyFlow.Continue;
        }

        byte[]? body;
        try
        {
            body = await response.ReadWholeAsync(context.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException
            || (ex is OperationCanceledException && !context.HttpContext.RequestAborted.IsCancellationRequested))
        {
            // A body that cannot be read whole (cut off by the backend, too large, too slow) is not stored; the client
            // gets what the backend sent, as without the store.
            return PolicyFlow.Continue;
        }

        if (body is null)
        {
            return PolicyFlow.Continue;
        }

        var expires = context.Services.Time.GetUtcNow().AddSeconds(ttl);
        context.Services.SemanticCache.Store(lookup.Partition, new SemanticCacheEntry(vector, response.StatusCode, response.StatusReason, contentType, body, expires));
        return PolicyFlow.Continue;
    }
}
