using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics.Metrics;

namespace Gateway.Tests.Telemetry;

public sealed class TokenMetricTotalsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly TokenMetricTotals _totals;
    private readonly Counter<long> _prompt;

    public TokenMetricTotalsTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _totals = new TokenMetricTotals(factory);
        _prompt = factory.Create(PolicyMetrics.MeterName).CreateCounter<long>(PolicyMetrics.PromptTokensName);
    }

    [Fact]
    public void TheSameDimensions_InAnyOrder_AreOneSeries()
    {
        _prompt.Add(3, new("Deployment", "gpt-4o"), new("Subscription ID", "chat-app"));
        _prompt.Add(4, new("Subscription ID", "chat-app"), new("Deployment", "gpt-4o"));

        var series = Assert.Single(_totals.Snapshot());
        Assert.Equal(7, series.Value);
        Assert.Equal("gpt-4o", series.Dimensions["Deployment"]);
        Assert.Equal("chat-app", series.Dimensions["Subscription ID"]);
    }

    [Fact]
    public void DifferentValues_OrAnotherDimension_AreSeriesOfTheirOwn()
    {
        _prompt.Add(1, new("Deployment", "gpt-4o"), new("Subscription ID", "chat-app"));
        _prompt.Add(2, new("Deployment", "gpt-4o"), new("Subscription ID", "batch-app"));
        _prompt.Add(4, new("Deployment", "gpt-4o"), new("Subscription ID", "chat-app"), new("API ID", "azure-openai"));
        _prompt.Add(8, new KeyValuePair<string, object?>("Deployment", "gpt-4o"));

        Assert.Equal([1L, 2L, 4L, 8L], _totals.Snapshot().Select(s => s.Value).Order());
    }

    [Fact]
    public void NonStringValues_AreComparedAsTheirInvariantText()
    {
        _prompt.Add(1, new("Code", 200), new("Deployment", "gpt-4o"));
        _prompt.Add(2, new("Deployment", "gpt-4o"), new("Code", "200"));

        var series = Assert.Single(_totals.Snapshot());
        Assert.Equal(3, series.Value);
    }

    [Fact]
    public void BeyondTheSeriesLimit_MeasurementsGoToTheOverflowSeries()
    {
        for (var i = 0; i < TokenMetricTotals.MaxSeries + 5; i++)
        {
            _prompt.Add(1, new KeyValuePair<string, object?>("Subscription ID", "s" + i));
        }

        _prompt.Add(1, new KeyValuePair<string, object?>("Subscription ID", "s0"));
        var snapshot = _totals.Snapshot();
        Assert.Equal(TokenMetricTotals.MaxSeries + 1, snapshot.Count);
        Assert.Equal(5, snapshot.Single(s => s.Dimensions.ContainsKey(TokenMetricTotals.OverflowDimension)).Value);
        Assert.Equal(2, snapshot.Single(s => s.Dimensions.TryGetValue("Subscription ID", out var id) && id == "s0").Value);
    }

    public void Dispose()
    {
        _totals.Dispose();
        _services.Dispose();
    }
}
