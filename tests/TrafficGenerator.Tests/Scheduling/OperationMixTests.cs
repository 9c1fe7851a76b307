using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Tests.Scheduling;

public sealed class OperationMixTests
{
    [Fact]
    public void Next_DefaultWeights_EveryRunOfTenHoldsTheWeights()
    {
        var mix = OperationMix.From(new MixOptions());

        for (var cycle = 0; cycle < 3; cycle++)
        {
            var picks = Enumerable.Range(0, 10).Select(_ => mix.Next()).ToArray();

            Assert.Equal(4, picks.Count(p => p == TrafficOperation.Chat));
            Assert.Equal(2, picks.Count(p => p == TrafficOperation.StreamedChat));
            Assert.Equal(2, picks.Count(p => p == TrafficOperation.Responses));
            Assert.Equal(2, picks.Count(p => p == TrafficOperation.Embeddings));
        }
    }

    [Fact]
    public void Next_DefaultWeights_EveryOperationWithinTheFirstFourPicks()
    {
        var mix = OperationMix.From(new MixOptions());

        var first = Enumerable.Range(0, 5).Select(_ => mix.Next()).ToHashSet();

        Assert.Equal(Enum.GetValues<TrafficOperation>().Length, first.Count);
    }

    [Fact]
    public void Next_EqualWeights_TakeTurns()
    {
        var mix = OperationMix.From(new MixOptions { Chat = 1, StreamedChat = 1, Responses = 1, Embeddings = 1 });

        var picks = Enumerable.Range(0, 8).Select(_ => mix.Next()).ToArray();

        Assert.Equal(picks[..4], picks[4..]);
        Assert.Equal(4, picks[..4].Distinct().Count());
    }

    [Fact]
    public void Next_ZeroWeight_IsNeverPicked()
    {
        var mix = OperationMix.From(new MixOptions { Chat = 3, StreamedChat = 0, Responses = 1, Embeddings = 0 });

        var picks = Enumerable.Range(0, 40).Select(_ => mix.Next()).ToArray();

        Assert.DoesNotContain(TrafficOperation.StreamedChat, picks);
        Assert.DoesNotContain(TrafficOperation.Embeddings, picks);
        Assert.Equal(30, picks.Count(p => p == TrafficOperation.Chat));
    }

    [Fact]
    public void Constructor_AllWeightsZero_Throws()
    {
        Assert.Throws<ArgumentException>(() => OperationMix.From(new MixOptions { Chat = 0, StreamedChat = 0, Responses = 0, Embeddings = 0 }));
    }
}
