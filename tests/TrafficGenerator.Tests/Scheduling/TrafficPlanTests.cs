using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Tests.Scheduling;

public sealed class TrafficPlanTests
{
    [Fact]
    public void Next_TwoSubscriptions_TakeTurns_AndEachSendsTheWholeMix()
    {
        var plan = new TrafficPlan(["search-indexer", "chat-app"], new MixOptions());

        var picks = Enumerable.Range(0, 20).Select(_ => plan.Next()).ToArray();

        Assert.All(picks.Where((_, i) => i % 2 == 0), p => Assert.Equal("chat-app", p.Subscription));
        Assert.All(picks.Where((_, i) => i % 2 == 1), p => Assert.Equal("search-indexer", p.Subscription));
        foreach (var subscription in new[] { "chat-app", "search-indexer" })
        {
            var operations = picks.Where(p => p.Subscription == subscription).Select(p => p.Operation).ToArray();
            Assert.Equal(4, operations.Count(o => o == TrafficOperation.Chat));
            Assert.Equal(2, operations.Count(o => o == TrafficOperation.StreamedChat));
            Assert.Equal(2, operations.Count(o => o == TrafficOperation.Responses));
            Assert.Equal(2, operations.Count(o => o == TrafficOperation.Embeddings));
        }
    }

    [Fact]
    public void Constructor_NoSubscription_Throws()
    {
        Assert.Throws<ArgumentException>(() => new TrafficPlan([], new MixOptions()));
    }
}
