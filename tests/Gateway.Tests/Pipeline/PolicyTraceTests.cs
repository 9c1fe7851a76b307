using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Pipeline;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary>Every executed element leaves an event, with its scope, path and outcome, on its section's span.</summary>
public sealed class PolicyTraceTests
{
    [Fact]
    public async Task EveryExecutedElement_IsAnEventOnItsSectionSpan_WithItsOutcome()
    {
        var traceId = ActivityTraceId.CreateRandom();
        var spans = new ConcurrentQueue<(string Span, IReadOnlyList<(string Name, string Scope, string Path, string Outcome)> Events)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == GatewayTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    spans.Enqueue((activity.OperationName, activity.Events
                        .Where(e => e.Tags.Any(t => t.Key == "apim.policy.outcome"))
                        .Select(e => (e.Name, Tag(e, "apim.policy.scope"), Tag(e, "apim.policy.path"), Tag(e, "apim.policy.outcome")))
                        .ToList()));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <base />
                <set-variable name="tier" value="gold" />
                <choose>
                  <when condition="@((string)context.Variables["tier"] == "silver")"><set-variable name="picked" value="silver" /></when>
                  <when condition="@((string)context.Variables["tier"] == "gold")"><set-variable name="picked" value="gold" /></when>
                </choose>
                <set-variable name="broken" value="@(int.Parse((string)context.Variables["tier"]))" />
              </inbound>
              <on-error>
                <return-response><set-status code="418" reason="Teapot" /></return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        using var response = await factory.CreateClient().PostChatAsync(headers: [("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01")]);

        Assert.Equal(418, (int)response.StatusCode);
        var inbound = Assert.Single(spans, s => s.Span == "policy inbound").Events;
        Assert.Equal(
            [
                ("set-variable", "api", "set-variable[1]", "ok"),
                ("set-variable", "api", "choose[1]/when[2]/set-variable[1]", "ok"),
                ("choose", "api", "choose[1]", "ok"),
                ("set-variable", "api", "set-variable[2]", "error: ExpressionValueEvaluationFailure"),
            ],
            inbound);
        var onError = Assert.Single(spans, s => s.Span == "policy on-error").Events;
        Assert.Equal([("set-status", "api", "return-response[1]/set-status[1]", "ok"), ("return-response", "api", "return-response[1]", "returned response")], onError);
        Assert.DoesNotContain(spans, s => s.Span == "policy backend");
    }

    [Fact]
    public async Task TheServerSpan_WhenTraced_CarriesTheApiOperationAndSubscription()
    {
        var traceId = ActivityTraceId.CreateRandom();
        // Kestrel stops the request's activity after the response has gone, so the client may see the answer first.
        var stopped = new TaskCompletionSource<Activity>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId == traceId)
                {
                    stopped.TrySetResult(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var apim = new TestApim("""
            <policies>
              <inbound><return-response><set-status code="204" /></return-response></inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        using var response = await factory.CreateClient().PostChatAsync(headers: [("traceparent", $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01")]);

        Assert.Equal(204, (int)response.StatusCode);
        var server = await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("azure-openai", server.GetTagItem("apim.api.id"));
        Assert.NotNull(server.GetTagItem("apim.operation.id"));
        Assert.Equal("chat-app", server.GetTagItem("apim.subscription.name"));
    }

    private static string Tag(ActivityEvent e, string name) => e.Tags.Single(t => t.Key == name).Value?.ToString() ?? string.Empty;
}
