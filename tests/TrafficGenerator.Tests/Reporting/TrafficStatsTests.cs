using TrafficGenerator.Reporting;
using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Tests.Reporting;

public sealed class TrafficStatsTests
{
    [Fact]
    public void TakeSummary_CountsEachOutcome_PerSubscriptionAndOperation_InOrder()
    {
        var stats = new TrafficStats();
        stats.Record("search-indexer", TrafficOperation.Embeddings, TrafficOutcome.Ok, TimeSpan.FromMilliseconds(40));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Ok, TimeSpan.FromMilliseconds(300));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Ok, TimeSpan.FromMilliseconds(100));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Ok, TimeSpan.FromMilliseconds(200));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Throttled, TimeSpan.FromMilliseconds(5));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Error, TimeSpan.FromMilliseconds(7));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Timeout, TimeSpan.FromSeconds(60));
        stats.Record("chat-app", TrafficOperation.Chat, TrafficOutcome.Skipped, TimeSpan.Zero);

        var lines = stats.TakeSummary();

        Assert.Equal(
            [
                new TrafficSummaryLine("chat-app", TrafficOperation.Chat, Ok: 3, Throttled: 1, Errors: 1, Timeouts: 1, Skipped: 1, MedianMilliseconds: 200),
                new TrafficSummaryLine("search-indexer", TrafficOperation.Embeddings, Ok: 1, Throttled: 0, Errors: 0, Timeouts: 0, Skipped: 0, MedianMilliseconds: 40),
            ],
            lines);
    }

    [Fact]
    public void TakeSummary_Again_KeepsTheCounts_AndStartsANewLatencyWindow()
    {
        var stats = new TrafficStats();
        stats.Record("chat-app", TrafficOperation.Responses, TrafficOutcome.Ok, TimeSpan.FromMilliseconds(900));
        stats.TakeSummary();
        stats.Record("chat-app", TrafficOperation.Responses, TrafficOutcome.Throttled, TimeSpan.FromMilliseconds(3));

        var line = Assert.Single(stats.TakeSummary());

        Assert.Equal(1, line.Ok);
        Assert.Equal(1, line.Throttled);
        Assert.Null(line.MedianMilliseconds);
    }

    [Fact]
    public void Median_EvenCount_IsTheLowerMiddle()
    {
        Assert.Equal(2, TrafficStats.Median([4, 1, 3, 2]));
        Assert.Equal(3, TrafficStats.Median([5, 3, 1]));
        Assert.Null(TrafficStats.Median([]));
    }
}
