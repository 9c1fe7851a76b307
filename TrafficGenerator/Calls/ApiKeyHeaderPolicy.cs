using System.ClientModel.Primitives;

namespace TrafficGenerator.Calls;

/// <summary>
/// Sends the subscription key in <c>api-key</c>, the header API Management reads (the client sends its credential as a
/// bearer token, which the gateway ignores and the policy replaces).
/// </summary>
internal sealed class ApiKeyHeaderPolicy(string key) : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("api-key", key);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("api-key", key);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }
}
