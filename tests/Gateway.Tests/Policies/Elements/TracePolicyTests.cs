using System.Collections.Concurrent;
using System.Diagnostics;
using Gateway.Pipeline;
using Gateway.Policies;
using Gateway.Policies.Elements;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public class TracePolicyTests
{
    [Fact]
    [Covers("trace", "source", "severity")]
    public async Task Trace_AddsAnEventWithMessageAndMetadataToThePolicySpan()
    {
        var (events, _) = await RunAsync("""
            <trace source="load-balancer" severity="information">
              <message>@("picked " + context.Operation.Id)</message>
              <metadata name="subscription" value="@(context.Subscription.Name)" />
            </trace>
            <return-response />
            """);

        var traced = Assert.Single(events);
        var tags = traced.Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("load-balancer", tags["apim.trace.source"]);
        Assert.Equal("information", tags["apim.trace.severity"]);
        Assert.Equal("picked ChatCompletions_Create", tags["apim.trace.message"]);
        Assert.Equal("chat-app", tags["apim.trace.metadata.subscription"]);
    }

    [Fact]
    public async Task ContextTrace_FromAnExpression_AddsAnEventAsTheElementDoes_AndTracingIsTrueOnARecordedSpan()
    {
        // Apim-Samples samples/secure-blob-access writes context.Trace(...) inside a statement block.
        var (events, response) = await RunAsync("""
            <set-variable name="traced" value="@{ context.Trace("sas for " + context.Subscription.Name); return context.Tracing; }" />
            <return-response>
              <set-header name="x-tracing" exists-action="override"><value>@(context.Variables["traced"].ToString())</value></set-header>
            </return-response>
            """);

        var tags = Assert.Single(events).Tags.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("context.Trace", tags["apim.trace.source"]);
        Assert.Equal("verbose", tags["apim.trace.severity"]);
        Assert.Equal("sas for chat-app", tags["apim.trace.message"]);
        Assert.Equal("True", response.Headers.GetValues("x-tracing").Single());
    }

    /// <summary>
    /// Runs <paramref name="inbound"/> with every policy span recorded; returns their trace events and the response. The
    /// listener is process-wide, so only the spans of this request's trace (its <c>traceparent</c>) count: other tests run
    /// policies with <c>trace</c> at the same time.
    /// </summary>
    private static async Task<(ActivityEvent[] Events, HttpResponseMessage Response)> RunAsync(string inbound)
    {
        var events = new ConcurrentQueue<ActivityEvent>();
        using var testSource = new ActivitySource(nameof(TracePolicyTests));
        var traceId = default(ActivityTraceId);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is GatewayTelemetry.SourceName or "Microsoft.AspNetCore" || source == testSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.TraceId != traceId)
                {
                    return;
                }

                foreach (var e in activity.Events.Where(e => e.Name == "trace" && e.Tags.Any(t => t.Key == "apim.trace.message")))
                {
                    events.Enqueue(e);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var apim = new TestApim($"""
            <policies>
              <inbound>
                {inbound}
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        using var client = factory.CreateClient();
        using (var request = testSource.StartActivity("request")!)
        {
            traceId = request.TraceId;
            client.DefaultRequestHeaders.Add("traceparent", request.Id);
            var response = await client.PostChatAsync();
            return ([.. events], response);
        }
    }

    [Fact]
    [Covers("trace", "source")]
    public void Load_TraceWithoutMessage_LoadsAsMicrosoftsSamplesUseIt()
    {
        // The reference marks <message> required; a trace with metadata only is accepted (docs/fidelity.md, "Evidence rule").
        using var document = PolicyLoader.Load(
            """<policies><outbound><trace source="AIGateway"><metadata name="User" value="@(context.Subscription.Name)" /></trace></outbound></policies>""",
            "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>()));

        Assert.IsType<TracePolicy>(Assert.Single(document[PolicySection.Outbound]!));
    }

    [Theory]
    [InlineData("""<trace source="s" severity="loud"><message>m</message></trace>""", "severity must be verbose, information or error")]
    [InlineData("""<trace severity="error"><message>m</message></trace>""", "<trace> requires attribute 'source'")]
    public void Load_InvalidTrace_Fails(string trace, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{trace}</inbound></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
