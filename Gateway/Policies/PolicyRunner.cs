using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Pipeline;
using Gateway.Policies.Elements;

namespace Gateway.Policies;

/// <summary>Runs sections and element lists, turning any failure into an error with API Management's LastError fields.</summary>
internal static class PolicyRunner
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<PolicyFlow> RunSectionAsync(RequestContext context, ExecutionFrame frame)
    {
        var elements = frame.Document[frame.Section];
        if (elements is null)
        {
            // A document that omits a section inherits the enclosing scope's, as if it held only <base />.
            return frame.ScopeIndex > 0 ? await RunSectionAsync(context, frame with { ScopeIndex = frame.ScopeIndex - 1 }) : PolicyFlow.Continue;
        }

        return await RunElementsAsync(context, frame, elements);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<PolicyFlow> RunElementsAsync(RequestContext context, ExecutionFrame frame, IReadOnlyList<PolicyElement> elements)
    {
        // By index: a foreach over the interface would box an enumerator for every list run, on every request.
        for (var i = 0; i < elements.Count; i++)
        {
            var element = elements[i];
            PolicyFlow flow;
            try
            {
                flow = await element.ExecuteAsync(context, frame);
            }
            catch (PolicyExecutionException ex) when (ex.Error is null)
            {
                ex.Error = ErrorAt(ex.Source, ex.Reason, ex.Message, frame, element);
                Trace(element, frame, "error: " + ex.Reason);
                throw;
            }
            catch (Exception ex) when (ex is not PolicyExecutionException and not OperationCanceledException)
            {
                Trace(element, frame, "error: " + ex.GetType().Name);
                throw new PolicyExecutionException(element.Name, ErrorReasons.UnexpectedError, ex.Message, ex)
                {
                    Error = ErrorAt(element.Name, ErrorReasons.UnexpectedError, ex.Message, frame, element),
                };
            }

            Trace(element, frame, flow == PolicyFlow.Return ? "returned response" : "ok");
            if (flow == PolicyFlow.Return)
            {
                return PolicyFlow.Return;
            }
        }

        return PolicyFlow.Continue;
    }

    private static LastError ErrorAt(string source, string reason, string message, ExecutionFrame frame, PolicyElement element) =>
        new(source, reason, message, frame.Document.Scope.ToApimName(), frame.Section.ToXmlName(), element.Info.Path, element.Info.PolicyId);

    private static void Trace(PolicyElement element, ExecutionFrame frame, string outcome)
    {
        if (element is BasePolicy)
        {
            return;
        }

        // Only a recorded span keeps its events: ASP.NET Core starts an activity for every request even when nothing
        // listens (for log correlation), and an event added to it would be built and dropped on every policy element.
        if (Activity.Current is not { Recorded: true } activity)
        {
            return;
        }

        activity.AddEvent(new ActivityEvent(element.Name, tags: new ActivityTagsCollection
        {
            ["apim.policy.scope"] = frame.Document.Scope.ToApimName(),
            ["apim.policy.path"] = element.Info.Path,
            ["apim.policy.outcome"] = outcome,
        }));
    }
}
