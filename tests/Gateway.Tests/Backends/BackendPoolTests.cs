using Gateway.Backends;
using Gateway.Pipeline;

namespace Gateway.Tests.Backends;

public sealed class BackendPoolTests
{
    private const int Selections = 2000;
    private static readonly Uri Url = new("http://127.0.0.1:9/openai");
    private static readonly string[] RoundRobin = ["a", "b", "c", "a", "b", "c"];

    [Theory]
    [InlineData(80, 20)]
    [InlineData(50, 50)]
    [InlineData(3, 1)]
    public void Select_Weights_SplitTrafficWithinThreePercentagePoints(int weightA, int weightB)
    {
        var pool = Pool(("a", 1, weightA), ("b", 1, weightB));
        var random = new RandomSource(new Random(20260302));

        var toA = Enumerable.Range(0, Selections).Count(_ => pool.Select(_ => true, random)!.Id == "a");

        var expected = 100.0 * weightA / (weightA + weightB);
        Assert.InRange(100.0 * toA / Selections, expected - 3, expected + 3);
    }

    [Fact]
    public void Select_EqualWeights_RoundRobin()
    {
        var pool = Pool(("a", 1, 5), ("b", 1, 5), ("c", 1, 5));

        var picks = Enumerable.Range(0, 6).Select(_ => pool.Select(_ => true, Random())!.Id);

        Assert.Equal(RoundRobin, picks);
    }

    [Fact]
    public void Select_Priority_AllTrafficOnTheFirstGroupWhileAnyOfItIsAvailable()
    {
        var pool = Pool(("p2", 2, 1), ("p1a", 1, 1), ("p1b", 1, 1), ("p3", 3, 1));
        var available = new HashSet<string> { "p1a", "p1b", "p2", "p3" };

        var healthy = Enumerable.Range(0, 100).Select(_ => pool.Select(b => available.Contains(b.Id), Random())!.Id).ToList();
        available.Remove("p1a");
        var oneTripped = Enumerable.Range(0, 100).Select(_ => pool.Select(b => available.Contains(b.Id), Random())!.Id).ToList();
        available.Remove("p1b");
        var groupTripped = Enumerable.Range(0, 100).Select(_ => pool.Select(b => available.Contains(b.Id), Random())!.Id).ToList();
        available.Clear();

        Assert.Equal(100, healthy.Count(id => id.StartsWith("p1", StringComparison.Ordinal)));
        Assert.Equal(50, healthy.Count(id => id == "p1a"));
        Assert.Equal(100, oneTripped.Count(id => id == "p1b"));
        Assert.Equal(100, groupTripped.Count(id => id == "p2"));
        Assert.Null(pool.Select(b => available.Contains(b.Id), Random()));
    }

    [Fact]
    public void Select_ZeroWeight_GetsTrafficOnlyWhenItsGroupHasNoOtherAvailableMember()
    {
        var pool = Pool(("spare", 1, 0), ("main", 1, 10));

        var healthy = Enumerable.Range(0, 100).Count(_ => pool.Select(_ => true, Random())!.Id == "spare");
        var mainTripped = Enumerable.Range(0, 100).Count(_ => pool.Select(b => b.Id != "main", Random())!.Id == "spare");

        Assert.Equal(0, healthy);
        Assert.Equal(100, mainTripped);
    }

    [Fact]
    public async Task Select_Concurrently_KeepsTheRoundRobinExact()
    {
        var pool = Pool(("a", 1, 1), ("b", 1, 1));
        var toA = 0;

        await Parallel.ForAsync(0, 10_000, (_, _) =>
        {
            if (pool.Select(_ => true, Random())!.Id == "a")
            {
                Interlocked.Increment(ref toA);
            }

            return ValueTask.CompletedTask;
        });

        Assert.Equal(5000, toA);
    }

    private static RandomSource Random() => new(new Random(1));

    private static BackendPool Pool(params (string Id, int Priority, int Weight)[] members) =>
        new("pool", members.Select(m => new PoolMember(new Backend(m.Id, Url), m.Priority, m.Weight)));
}
