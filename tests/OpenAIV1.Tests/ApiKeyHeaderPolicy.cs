using System.ClientModel.Primitives;

namespace OpenAIV1.Tests;

/// <summary>Sends the API Management subscription key in <c>api-key</c>, the header the gateway's API takes it from.</summary>
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
