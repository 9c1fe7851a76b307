using System.Diagnostics.Metrics;
using Gateway.Policies;
using Gateway.Telemetry;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Gateway.Tests.Policies.Elements;

public class EmitMetricPolicyTests
{
    [Fact]
    [Covers("emit-metric", "name", "value", "namespace")]
    public async Task EmitMetric_CountsWithDefaultAndExplicitDimensions()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <emit-metric name="requests-by-team" value="@(2.5)" namespace="aoai-gateway">
                  <dimension name="API ID" />
                  <dimension name="Subscription ID" />
                  <dimension name="team" value="@(context.Request.Headers.GetValueOrDefault("x-team", "none"))" />
                </emit-metric>
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9");
        var client = factory.CreateClient();
        using var collector = new MetricCollector<double>(factory.Services.GetRequiredService<IMeterFactory>(), PolicyMetrics.MeterName, "requests-by-team");

        for (var i = 0; i < 2; i++)
        {
            using var response = await client.PostChatAsync(headers: [("x-team", "search")]);
        }

        var measurements = collector.GetMeasurementSnapshot();
        Assert.Equal(5.0, measurements.EvaluateAsCounter());
        var tags = measurements[0].Tags;
        Assert.Equal("aoai-gateway", tags["namespace"]);
        Assert.Equal("azure-openai", tags["API ID"]);
        Assert.Equal("chat-app", tags["Subscription ID"]);
        Assert.Equal("search", tags["team"]);
    }

    [Theory]
    [InlineData("requests-by-team", "requests-by-team")]
    [InlineData("Requests by team", "Requests_by_team")]
    [InlineData("9 lives", "m_9_lives")]
    [InlineData("tokens/min (east)", "tokens/min__east_")]
    public void InstrumentName_IsWhatOpenTelemetryAccepts(string name, string exported)
    {
        Assert.Equal(exported, PolicyMetrics.InstrumentName(name));
        Assert.Matches("^[A-Za-z][A-Za-z0-9_./-]{0,254}$", exported);
    }

    [Theory]
    [InlineData("""<emit-metric name="m"><dimension name="team" /></emit-metric>""", "dimension 'team' needs a value")]
    [InlineData("""<emit-metric name="m" />""", "takes 1 to 10 dimensions")]
    public void Load_InvalidEmitMetric_Fails(string element, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
