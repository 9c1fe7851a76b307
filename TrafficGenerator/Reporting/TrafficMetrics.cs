using System.Diagnostics;
using System.Diagnostics.Metrics;
using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Reporting;

/// <summary>The generator's own instruments: every scheduled request by subscription, operation and outcome.</summary>
internal sealed class TrafficMetrics
{
    public const string MeterName = "TrafficGenerator";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;

    public TrafficMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("traffic.requests", "{request}", "Requests the generator scheduled, by outcome.");
        _duration = meter.CreateHistogram<double>("traffic.request.duration", "s", "How long a request took, to the end of its answer.");
    }

    public void Record(string subscription, TrafficOperation operation, TrafficOutcome outcome, TimeSpan duration)
    {
        var tags = new TagList
        {
            { "traffic.subscription", subscription },
            { "traffic.operation", operation.ToString() },
            { "traffic.outcome", outcome.ToString() },
        };
        _requests.Add(1, tags);
        if (outcome != TrafficOutcome.Skipped)
        {
            _duration.Record(duration.TotalSeconds, tags);
        }
    }
}
