using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>send-request</c>: sends a request built by its children (<see cref="OutgoingRequest"/>) and waits, at most
/// <c>timeout</c> seconds (default 60), for its whole response, which it stores in <c>response-variable-name</c> as an
/// <c>IResponse</c> (<c>((IResponse)context.Variables["x"]).Body.As&lt;JObject&gt;()</c>; <c>return-response</c> can
/// answer with it). Any status is a response. A timeout or a connection failure goes to on-error
/// (<see cref="ErrorReasons.BackendConnectionFailure"/>); with <c>ignore-error="true"</c> the variable holds null instead.
/// </summary>
internal sealed class SendRequestPolicy(ElementInfo info, OutgoingRequest request, PolicyValue responseVariable, bool ignoreError) : PolicyElement(info)
{
    public OutgoingRequest Request => request;

    public static PolicyElement? Parse(ElementReader reader)
    {
        var variable = reader.Value("response-variable-name", required: true);
        var ignoreError = reader.Bool("ignore-error", false);
        var request = OutgoingRequest.Parse(reader);
        return variable is null || request is null ? null : new SendRequestPolicy(reader.Info, request, variable, ignoreError);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var variable = responseVariable.EvaluateString(context, Name);
        if (string.IsNullOrWhiteSpace(variable))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, "response-variable-name must name a variable.");
        }

        var prepared = request.Prepare(context, frame.Section, Name);
        try
        {
            context.VariableStore[variable] = await context.Services.SendRequests.SendAsync(prepared, Name, context.HttpContext.RequestAborted);
        }
        catch (PolicyExecutionException ex) when (ignoreError && ex.Reason == ErrorReasons.BackendConnectionFailure)
        {
            // As documented: the error is ignored and the variable holds null.
            context.VariableStore[variable] = null!;
        }

        return PolicyFlow.Continue;
    }
}
