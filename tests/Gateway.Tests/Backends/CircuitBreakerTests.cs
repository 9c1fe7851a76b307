using Gateway.Apim.Model;
using Gateway.Backends;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Backends;

public sealed class CircuitBreakerTests
{
    private static readonly Dictionary<string, string[]> NoHeaders = new(StringComparer.OrdinalIgnoreCase);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 2, 8, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Count_TripsOnTheCountthFailureWithinTheInterval()
    {
        var breaker = Breaker(Rule(count: 3, interval: "PT10S", ranges: [(429, 429), (500, 599)]));

        breaker.OnResponse(429, NoHeaders);
        breaker.OnResponse(503, NoHeaders);
        _time.Advance(TimeSpan.FromSeconds(10));
        breaker.OnResponse(500, NoHeaders);
        var afterTheFirstTwoLeftTheInterval = breaker.IsAvailable(out _);
        _time.Advance(TimeSpan.FromSeconds(9));
        breaker.OnResponse(200, NoHeaders);
        breaker.OnResponse(404, NoHeaders);
        breaker.OnResponse(429, NoHeaders);
        var afterTwoInTheInterval = breaker.IsAvailable(out _);
        breaker.OnResponse(429, NoHeaders);

        Assert.True(afterTheFirstTwoLeftTheInterval);
        Assert.True(afterTwoInTheInterval);
        Assert.False(breaker.IsAvailable(out var until));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(1), until);
    }

    [Fact]
    public void Percentage_TripsWhenFailuresReachTheShareOfRequestsInTheInterval()
    {
        var breaker = Breaker(Rule(percentage: 50, interval: "PT1M", ranges: [(500, 599)]));

        for (var i = 0; i < 3; i++)
        {
            breaker.OnResponse(200, NoHeaders);
        }

        breaker.OnResponse(500, NoHeaders);
        breaker.OnResponse(502, NoHeaders);
        var atTwoOfFive = breaker.IsAvailable(out _);
        breaker.OnResponse(504, NoHeaders);

        Assert.True(atTwoOfFive);
        Assert.False(breaker.IsAvailable(out _));
    }

    [Fact]
    public void Percentage_SuccessesOutsideTheIntervalNoLongerDilute()
    {
        var breaker = Breaker(Rule(percentage: 50, interval: "PT10S", ranges: [(500, 599)]));
        for (var i = 0; i < 10; i++)
        {
            breaker.OnResponse(200, NoHeaders);
        }

        _time.Advance(TimeSpan.FromSeconds(10));
        breaker.OnResponse(200, NoHeaders);
        breaker.OnResponse(500, NoHeaders);

        Assert.False(breaker.IsAvailable(out _));
    }

    [Fact]
    public void ErrorReasons_CountOnlyTheListedForwardingErrors()
    {
        var breaker = Breaker(Rule(count: 2, errorReasons: ["BackendConnectionFailure"]));

        breaker.OnError("Timeout");
        breaker.OnError("Timeout");
        breaker.OnResponse(500, NoHeaders);
        breaker.OnError("BackendConnectionFailure");
        var afterOne = breaker.IsAvailable(out _);
        breaker.OnError("backendconnectionfailure");

        Assert.True(afterOne);
        Assert.False(breaker.IsAvailable(out _));
    }

    [Fact]
    public void Trip_EndsAfterTripDuration_NotOneTickBefore_WithItsCountsCleared()
    {
        var breaker = Breaker(Rule(count: 2, trip: "PT1M", ranges: [(429, 429)]));
        breaker.OnResponse(429, NoHeaders);
        breaker.OnResponse(429, NoHeaders);

        _time.Advance(TimeSpan.FromMinutes(1) - TimeSpan.FromTicks(1));
        var oneTickBefore = breaker.IsAvailable(out _);
        _time.Advance(TimeSpan.FromTicks(1));
        var atTheEnd = breaker.IsAvailable(out _);
        breaker.OnResponse(429, NoHeaders);

        Assert.False(oneTickBefore);
        Assert.True(atTheEnd);
        Assert.True(breaker.IsAvailable(out _));
    }

    [Fact]
    public void Trip_IgnoresOutcomesOfRequestsUnderWayWhenItTripped()
    {
        var breaker = Breaker(Rule(count: 1, trip: "PT30S", ranges: [(500, 599)]));
        breaker.OnResponse(500, NoHeaders);
        _time.Advance(TimeSpan.FromSeconds(20));

        breaker.OnResponse(500, NoHeaders);

        Assert.False(breaker.IsAvailable(out var until));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(10), until);
    }

    [Fact]
    public void Trip_AnswerOfARequestSentBeforeTheTripEnded_DoesNotTripTheClosedBreakerAgain()
    {
        var breaker = Breaker(Rule(count: 1, trip: "PT10S", ranges: [(500, 599)]));
        var sentEarly = breaker.Generation;
        breaker.OnResponse(500, NoHeaders);
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(breaker.IsAvailable(out _));

        // A slow request sent before the trip answers 500 only now, after the trip ended: it is not counted.
        breaker.OnResponse(500, NoHeaders, sentEarly);
        var stillClosed = breaker.IsAvailable(out _);
        breaker.OnResponse(500, NoHeaders, breaker.Generation);

        Assert.True(stillClosed);
        Assert.False(breaker.IsAvailable(out _));
    }

    [Theory]
    [InlineData("Retry-After", "7", 7000)]
    [InlineData("Retry-After", "Mon, 02 Mar 2026 08:00:45 GMT", 45000)]
    [InlineData("retry-after-ms", "2500", 2500)]
    [InlineData("Retry-After", "0", 60000)]
    [InlineData("x-other", "7", 60000)]
    public void AcceptRetryAfter_TripsForAsLongAsTheTrippingResponseAsks(string header, string value, int milliseconds)
    {
        var breaker = Breaker(Rule(count: 1, trip: "PT1M", ranges: [(429, 429)], acceptRetryAfter: true));

        breaker.OnResponse(429, new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { [header] = [value] });

        Assert.False(breaker.IsAvailable(out var until));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMilliseconds(milliseconds), until);
    }

    [Fact]
    public void AcceptRetryAfter_PrefersRetryAfterToRetryAfterMs()
    {
        var breaker = Breaker(Rule(count: 1, trip: "PT1M", ranges: [(429, 429)], acceptRetryAfter: true));

        breaker.OnResponse(429, new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["retry-after"] = ["3"], ["retry-after-ms"] = ["2100"] });

        Assert.False(breaker.IsAvailable(out var until));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(3), until);
    }

    [Fact]
    public void WithoutAcceptRetryAfter_TripDurationHoldsWhateverTheResponseSays()
    {
        var breaker = Breaker(Rule(count: 1, trip: "PT1M", ranges: [(429, 429)], acceptRetryAfter: false));

        breaker.OnResponse(429, new Dictionary<string, string[]>(StringComparer.OrdinalIgnoreCase) { ["Retry-After"] = ["5"] });

        Assert.False(breaker.IsAvailable(out var until));
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(1), until);
    }

    [Fact]
    public async Task ConcurrentFailures_AreEachCounted_AndTripOnce()
    {
        var trips = 0;
        var breaker = new CircuitBreaker(Rule(count: 2000, interval: "PT1H", ranges: [(500, 599)]), _time, _ => Interlocked.Increment(ref trips));

        await Parallel.ForAsync(0, 1999, (_, _) =>
        {
            breaker.OnResponse(500, NoHeaders);
            return ValueTask.CompletedTask;
        });
        var before = breaker.IsAvailable(out _);
        await Parallel.ForAsync(0, 500, (_, _) =>
        {
            breaker.OnResponse(500, NoHeaders);
            return ValueTask.CompletedTask;
        });

        Assert.True(before);
        Assert.False(breaker.IsAvailable(out _));
        Assert.Equal(1, trips);
    }

    [Fact]
    public void TripAndClose_AreEachReportedOnce_WhenTheyHappen()
    {
        var changes = new List<string>();
        var breaker = new CircuitBreaker(Rule(count: 1, interval: "PT10S", ranges: [(429, 429)]), _time, _ => changes.Add("open"), () => changes.Add("closed"));

        breaker.OnResponse(429, NoHeaders);
        var whileTripped = breaker.IsAvailable(out _);
        _time.Advance(TimeSpan.FromMinutes(1));
        var afterTheTrip = breaker.IsAvailable(out _);
        breaker.OnResponse(200, NoHeaders);
        var stillClosed = breaker.IsAvailable(out _);

        Assert.False(whileTripped);
        Assert.True(afterTheTrip);
        Assert.True(stillClosed);
        Assert.Equal(["open", "closed"], changes);
    }

    [Fact]
    public void Registry_KeepsABreakerAcrossReloadsWhileItsRuleIsTheSame()
    {
        var breakers = new CircuitBreakers(_time, NullLogger<CircuitBreakers>.Instance);
        var url = new Uri("http://127.0.0.1:9/openai");
        var first = breakers.For(new Backend("b", url, breakerRule: Rule(count: 1, ranges: [(429, 429)])))!;
        first.OnResponse(429, NoHeaders);

        var reloaded = breakers.For(new Backend("b", url, breakerRule: Rule(count: 1, ranges: [(429, 429)])))!;
        var changed = breakers.For(new Backend("b", url, breakerRule: Rule(count: 2, ranges: [(429, 429)])))!;

        Assert.Same(first, reloaded);
        Assert.NotSame(first, changed);
        Assert.True(changed.IsAvailable(out _));
        Assert.Null(breakers.For(new Backend("c", url)));
    }

    private static CircuitBreakerRule Rule(
        long? count = null,
        long? percentage = null,
        string interval = "PT10S",
        (int Min, int Max)[]? ranges = null,
        string[]? errorReasons = null,
        string trip = "PT1M",
        bool acceptRetryAfter = false) =>
        CircuitBreakerRule.From(new CircuitBreakerRuleDefinition(
            "rule",
            new FailureConditionDefinition(count, percentage, interval, ranges?.Select(r => new StatusCodeRangeDefinition(r.Min, r.Max)).ToList(), errorReasons),
            trip,
            acceptRetryAfter));

    private CircuitBreaker Breaker(CircuitBreakerRule rule) => new(rule, _time);
}
