using Gateway.Caching;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Caching;

public sealed class SemanticCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Find_SeveralWithinTheThreshold_ReturnsTheNearest()
    {
        var cache = new SemanticCache(_time);
        cache.Store("p", Entry([1, 0, 0], "far", 60));
        cache.Store("p", Entry([1, 1, 0], "near", 60));

        Assert.Equal("near", Body(cache.Find("p", [1, 1, 0.1f], 0.5)));
        Assert.Null(cache.Find("other", [1, 1, 0.1f], 0.5));
        Assert.Null(cache.Find("p", [0, 0, 1], 0.5));
    }

    [Fact]
    public void Store_PartitionFull_EvictsTheEntryClosestToExpiring()
    {
        var cache = new SemanticCache(_time);
        cache.Store("p", Entry([1, 0], "soonest", 10));
        for (var i = 1; i < SemanticCache.MaxEntriesPerPartition; i++)
        {
            cache.Store("p", Entry([0, 1], "later", 60));
        }

        cache.Store("p", Entry([0, 1], "newest", 60));

        Assert.Equal(SemanticCache.MaxEntriesPerPartition, cache.Count);
        Assert.Null(cache.Find("p", [1, 0], 0.01));
    }

    [Fact]
    public void Store_TooManyPartitions_DropsThePartitionThatExpiresFirst()
    {
        var cache = new SemanticCache(_time);
        cache.Store("first", Entry([1, 0], "first", 10));
        for (var i = 1; i < SemanticCache.MaxPartitions; i++)
        {
            cache.Store("p" + i, Entry([1, 0], "x", 60));
        }

        cache.Store("last", Entry([1, 0], "last", 60));

        Assert.Equal(SemanticCache.MaxPartitions, cache.Count);
        Assert.Null(cache.Find("first", [1, 0], 0.01));
        Assert.Equal("last", Body(cache.Find("last", [1, 0], 0.01)));
    }

    [Fact]
    public void Store_OverTheWholeCachesEntries_EvictsTheEntryClosestToExpiring_InAnyPartition()
    {
        var cache = new SemanticCache(_time);
        cache.Store("soon", Entry([1, 0], "soonest", 10));
        for (var i = 1; i < SemanticCache.MaxEntries; i++)
        {
            cache.Store("p" + (i % (SemanticCache.MaxPartitions - 1)), Entry([0, 1], "later", 60));
        }

        cache.Store("p1", Entry([0, 1], "newest", 60));

        Assert.Equal(SemanticCache.MaxEntries, cache.Count);
        Assert.Null(cache.Find("soon", [1, 0], 0.01));
    }

    [Fact]
    public void Store_OverTheWholeCachesBytes_EvictsUntilItFits_AndRefusesAnEntryLargerThanTheCache()
    {
        var cache = new SemanticCache(_time);
        var quarter = (int)(SemanticCache.MaxBytes / 4);
        for (var i = 0; i < 5; i++)
        {
            cache.Store("p" + i, new SemanticCacheEntry([1, 0], 200, "OK", "application/json", new byte[quarter], _time.GetUtcNow().AddSeconds(10 + i)));
        }

        cache.Store("huge", new SemanticCacheEntry([1, 0], 200, "OK", "application/json", new byte[SemanticCache.MaxBytes + 1], _time.GetUtcNow().AddSeconds(60)));

        Assert.Equal(3, cache.Count);
        Assert.True(cache.Bytes <= SemanticCache.MaxBytes);
        Assert.Null(cache.Find("p0", [1, 0], 0.01));
        Assert.Null(cache.Find("p1", [1, 0], 0.01));
        Assert.NotNull(cache.Find("p4", [1, 0], 0.01));
        Assert.Null(cache.Find("huge", [1, 0], 0.01));
    }

    [Fact]
    public void Reset_ForgetsEverything()
    {
        var cache = new SemanticCache(_time);
        cache.Store("p", Entry([1, 0], "x", 60));

        cache.Reset();

        Assert.Equal(0, cache.Count);
        Assert.Null(cache.Find("p", [1, 0], 0.01));
    }

    private static string? Body(SemanticCacheEntry? entry) => entry is null ? null : System.Text.Encoding.UTF8.GetString(entry.Body);

    private SemanticCacheEntry Entry(float[] vector, string body, int seconds) =>
        new(vector, 200, "OK", "application/json", System.Text.Encoding.UTF8.GetBytes(body), _time.GetUtcNow().AddSeconds(seconds));
}
