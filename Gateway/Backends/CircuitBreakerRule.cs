using System.Globalization;
using Gateway.Apim.Model;

namespace Gateway.Backends;

/// <summary>
/// A backend's circuit-breaker rule, from a validated topology: what counts as a failure (a response status in one of
/// the ranges, or a forwarding error whose <c>context.LastError.Reason</c> is listed), the threshold within the interval,
/// and how long the breaker stays tripped.
/// </summary>
internal sealed class CircuitBreakerRule
{
    private readonly HashSet<string> _errorReasons;

    private CircuitBreakerRule(CircuitBreakerRuleDefinition definition)
    {
        var condition = definition.FailureCondition!;
        Name = definition.Name;
        Count = condition.Count;
        Percentage = condition.Percentage;
        _ = Topology.TryParseDuration(condition.Interval, out var interval);
        Interval = interval;
        StatusCodeRanges = [.. (condition.StatusCodeRanges ?? []).Select(r => (r.Min, r.Max))];
        _errorReasons = new HashSet<string>(condition.ErrorReasons ?? [], StringComparer.OrdinalIgnoreCase);
        _ = Topology.TryParseDuration(definition.TripDuration, out var trip);
        TripDuration = trip;
        AcceptRetryAfter = definition.AcceptRetryAfter ?? false;
        Key = string.Join(
            '|',
            Count?.ToString(CultureInfo.InvariantCulture),
            Percentage?.ToString(CultureInfo.InvariantCulture),
            Interval.Ticks.ToString(CultureInfo.InvariantCulture),
            string.Join(',', StatusCodeRanges.Select(r => $"{r.Min}-{r.Max}")),
            string.Join(',', _errorReasons.Order(StringComparer.OrdinalIgnoreCase)),
            TripDuration.Ticks.ToString(CultureInfo.InvariantCulture),
            AcceptRetryAfter);
    }

    public string? Name { get; }

    /// <summary>Failures within <see cref="Interval"/> that trip the breaker; null when <see cref="Percentage"/> is the threshold.</summary>
    public long? Count { get; }

    /// <summary>The share of requests within <see cref="Interval"/>, in percent, that trips the breaker when they fail.</summary>
    public long? Percentage { get; }

    public TimeSpan Interval { get; }

    public IReadOnlyList<(int Min, int Max)> StatusCodeRanges { get; }

    public IReadOnlyCollection<string> ErrorReasons => _errorReasons;

    public TimeSpan TripDuration { get; }

    /// <summary>Whether a tripping response's Retry-After (or retry-after-ms) sets the trip's length instead of <see cref="TripDuration"/>.</summary>
    public bool AcceptRetryAfter { get; }

    /// <summary>The rule's settings as one string: a reload that leaves them unchanged keeps the breaker's state.</summary>
    public string Key { get; }

    public static CircuitBreakerRule From(CircuitBreakerRuleDefinition definition) => new(definition);

    public bool IsFailure(int statusCode) => StatusCodeRanges.Any(r => statusCode >= r.Min && statusCode <= r.Max);

    public bool IsFailure(string errorReason) => _errorReasons.Contains(errorReason);
}
