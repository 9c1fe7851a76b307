using System.Globalization;
using Gateway.Caching;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-semantic-cache-store</c> and <c>llm-semantic-cache-store</c>: after a lookup of the same request that
/// missed, caches the response for <c>duration</c> seconds under the lookup's prompt vector and partition. Only a 200 is
/// cached, unless <c>cache-response</c> (<c>llm-semantic-cache-store</c>) is true; only a body held whole (a buffered
/// backend response, or one a policy set), so a stream is never cached.
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

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
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
            return ValueTask.FromResult(PolicyFlow.Continue);
        }

        byte[] body;
        if (response.Body is { } held)
        {
            body = held.ToArray();
        }
        else if (response is { BackendBodyBuffered: true, BackendCall: not null })
        {
            body = response.As<byte[]>(preserveContent: true);
        }
        else
        {
            // A streamed body is not read here: caching it would hold the stream back from the client.
            return ValueTask.FromResult(PolicyFlow.Continue);
        }

        var contentType = response.Headers.TryGetValue("Content-Type", out var type) && type is [var first, ..] ? first : null;
        var expires = context.Services.Time.GetUtcNow().AddSeconds(ttl);
        context.Services.SemanticCache.Store(lookup.Partition, new SemanticCacheEntry(vector, response.StatusCode, response.StatusReason, contentType, body, expires));
        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
