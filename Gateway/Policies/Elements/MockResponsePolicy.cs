using System.Text;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>mock-response</c>: ends the pipeline with <c>status-code</c> (default 200) and, when the API definition has an
/// example for that status and <c>content-type</c> (default <c>application/json</c>), that example as the body;
/// otherwise no body.
/// </summary>
internal sealed class MockResponsePolicy(ElementInfo info, int status, string contentType) : PolicyElement(info)
{
    public static PolicyElement Parse(ElementReader reader)
    {
        var status = reader.Int("status-code", 100, 599) ?? StatusCodes.Status200OK;
        var contentType = reader.Literal("content-type") ?? "application/json";
        reader.Children();
        return new MockResponsePolicy(reader.Info, status, contentType);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var response = ResponseState.Empty();
        response.StatusCode = status;
        response.StatusReason = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);
        if (context.Operation is OperationInfo { Examples: var examples } && examples.TryGetValue((status, contentType), out var example))
        {
            response.Headers["Content-Type"] = [contentType];
            response.Body = Encoding.UTF8.GetBytes(example);
        }

        context.ReplaceResponse(response);
        return ValueTask.FromResult(PolicyFlow.Return);
    }
}
