using System.Globalization;
using System.Text.Json;
using Gateway.Backends;
using Gateway.Caching;
using Gateway.Forwarding;
using Gateway.Pipeline;
using Microsoft.AspNetCore.WebUtilities;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>azure-openai-semantic-cache-lookup</c> and <c>llm-semantic-cache-lookup</c>: embeds the request's prompt
/// (<see cref="SemanticCachePrompt"/>) through the backend <c>embeddings-backend-id</c> (whose URL is the whole embeddings
/// address; its credentials, plus with <c>embeddings-backend-auth="system-assigned"</c> a managed-identity token for
/// Azure OpenAI), then looks for the nearest cached prompt of the partition (API, operation, the <c>vary-by</c> values
/// concatenated). Within <c>score-threshold</c> (a cosine distance: lower is stricter) the cached response answers and
/// the pipeline ends, as <c>return-response</c> ends it. Anything that goes wrong (the embeddings backend down or
/// throttled, an unreadable answer) is a miss, never an error: the request goes on to the backend.
/// </summary>
internal sealed class SemanticCacheLookupPolicy(
    ElementInfo info,
    double scoreThreshold,
    string embeddingsBackendId,
    bool systemAssigned,
    bool ignoreSystemMessages,
    int? maxMessageCount,
    IReadOnlyList<PolicyValue> varyBy) : PolicyElement(info)
{
    /// <summary>The resource of the managed-identity token <c>embeddings-backend-auth="system-assigned"</c> sends.</summary>
    public const string CognitiveServicesResource = "https://cognitiveservices.azure.com";

    /// <summary>The api-version of the embeddings call when neither the backend's URL nor the request names one.</summary>
    public const string DefaultApiVersion = "2024-10-21";

    /// <summary>How long the embeddings call may take before the lookup counts as a miss.</summary>
    public static readonly TimeSpan EmbeddingsTimeout = TimeSpan.FromSeconds(10);

    public static PolicyElement? Parse(ElementReader reader)
    {
        var name = reader.Info.Name;
        var thresholdText = reader.Literal("score-threshold", required: true);
        var backendId = reader.Literal("embeddings-backend-id", required: true);
        var auth = reader.Literal("embeddings-backend-auth");
        var ignoreSystem = reader.Bool("ignore-system-messages", false);
        var maxMessages = reader.Int("max-message-count", 1, int.MaxValue);
        if (reader.Element.ElementsBeforeSelf(reader.Element.Name).Any())
        {
            reader.Error($"<{name}> may appear only once in a section");
        }

        double? threshold = null;
        if (thresholdText is not null)
        {
            if (double.TryParse(thresholdText, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and <= 1)
            {
                threshold = parsed;
            }
            else
            {
                reader.Error($"attribute 'score-threshold' of <{name}> must be a number from 0.0 to 1.0, not '{thresholdText}'");
            }
        }

        if (auth is not null and not "system-assigned")
        {
            reader.Error($"attribute 'embeddings-backend-auth' of <{name}> must be system-assigned, not '{auth}'");
        }

        var varyBy = reader.Children("vary-by").Select(child => reader.TextValue(child)).ToList();
        return threshold is null || backendId is null
            ? null
            : new SemanticCacheLookupPolicy(reader.Info, threshold.Value, backendId, auth is not null, ignoreSystem, maxMessages, varyBy);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        if (!context.RequestBody.IsBuffered)
        {
            context.RequestBody = await MessageBody.ReadAsync(context.HttpContext.Request, context.HttpContext.RequestAborted);
        }

        var prompt = SemanticCachePrompt.Text(context.RequestBody.Content, ignoreSystemMessages, maxMessageCount);
        if (prompt is null)
        {
            return PolicyFlow.Continue;
        }

        var partition = string.Join('\n', [context.Api.Id, context.Operation.Id, .. varyBy.Select(v => v.EvaluateString(context, Name) ?? string.Empty)]);
        var vector = await EmbedAsync(context, prompt);
        var cache = context.Services.SemanticCache;
        if (vector is not null && cache.Find(partition, vector, scoreThreshold) is { } entry)
        {
            context.SetSlot(new SemanticCacheLookup(partition, vector, Hit: true));
            var response = ResponseState.Empty();
            response.StatusCode = entry.StatusCode;
            response.StatusReason = entry.StatusReason;
            if (entry.ContentType is { } contentType)
            {
                response.Headers["Content-Type"] = [contentType];
            }

            response.Body = entry.Body;
            context.ReplaceResponse(response);
            return PolicyFlow.Return;
        }

        context.SetSlot(new SemanticCacheLookup(partition, vector, Hit: false));
        return PolicyFlow.Continue;
    }

    /// <summary>The prompt's vector from the embeddings backend, or null (traced) when it cannot be had.</summary>
    private async Task<float[]?> EmbedAsync(RequestContext context, string prompt)
    {
        var aborted = context.HttpContext.RequestAborted;
        try
        {
            if (!context.Services.Backends.TryGet(embeddingsBackendId, out var entity) || entity is not Backend backend)
            {
                context.Trace($"{Name}: '{embeddingsBackendId}' is not a single backend of the topology; the request goes on uncached.");
                return null;
            }

            var target = backend.Target;
            var query = QueryHelpers.ParseQuery(target.Url.Query).ToDictionary(q => q.Key, q => q.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase);
            if (!query.ContainsKey("api-version"))
            {
                query["api-version"] = context.Query.TryGetValue("api-version", out var version) && version is [var first, ..] ? [first] : [DefaultApiVersion];
            }

            var headers = new HeaderDictionary { ["Content-Type"] = "application/json" };
            if (target.Credentials is { } credentials)
            {
                query = credentials.WithQuery(query);
                await credentials.ApplyAsync(headers, context.Services.ManagedIdentity, aborted);
            }

            var url = new Uri(target.Url.GetLeftPart(UriPartial.Path) + RequestContext.ToQueryString(query).ToUriComponent());
            var body = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["input"] = prompt });
            var request = new PreparedRequest(
                url,
                HttpMethods.Post,
                headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? string.Empty).ToArray(), StringComparer.OrdinalIgnoreCase),
                body,
                systemAssigned ? new ManagedIdentityLogin(CognitiveServicesResource, null, IgnoreError: false) : null,
                EmbeddingsTimeout);
            var response = await context.Services.SendRequests.SendAsync(request, Name, aborted);
            if (response.StatusCode is < 200 or > 299)
            {
                context.Trace($"{Name}: the embeddings backend answered {response.StatusCode}; the request goes on uncached.");
                return null;
            }

            return Vector(response.Body ?? ReadOnlyMemory<byte>.Empty);
        }
        catch (Exception ex) when (!aborted.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            // As the reference says of a failing cache: no error, the request goes on.
            context.Trace($"{Name}: the embeddings call failed ({ex.GetType().Name}); the request goes on uncached.");
            return null;
        }
    }

    /// <summary>The first embedding of an embeddings response (<c>data[0].embedding</c>), or null.</summary>
    private static float[]? Vector(ReadOnlyMemory<byte> body)
    {
        using var document = JsonDocument.Parse(body);
        if (document.RootElement.ValueKind != JsonValueKind.Object
            || !document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() == 0
            || !data[0].TryGetProperty("embedding", out var embedding) || embedding.ValueKind != JsonValueKind.Array || embedding.GetArrayLength() == 0)
        {
            return null;
        }

        return [.. embedding.EnumerateArray().Select(v => v.GetSingle())];
    }
}
