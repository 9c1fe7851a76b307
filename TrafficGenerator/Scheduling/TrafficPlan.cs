namespace TrafficGenerator.Scheduling;

/// <summary>
/// Which subscription sends the next request and what it is: the subscriptions take turns, and each has its own
/// <see cref="OperationMix"/>, so every subscription sends the whole mix whatever the number of subscriptions. Not
/// thread-safe: one scheduling loop owns it.
/// </summary>
internal sealed class TrafficPlan
{
    private readonly string[] _subscriptions;
    private readonly OperationMix[] _mixes;
    private int _turn;

    public TrafficPlan(IEnumerable<string> subscriptions, MixOptions mix)
    {
        _subscriptions = [.. subscriptions.Order(StringComparer.Ordinal)];
        if (_subscriptions.Length == 0)
        {
            throw new ArgumentException("At least one subscription is needed.", nameof(subscriptions));
        }

        _mixes = [.. _subscriptions.Select(_ => OperationMix.From(mix))];
    }

    /// <summary>The next request's subscription and operation.</summary>
    public (string Subscription, TrafficOperation Operation) Next()
    {
        var index = _turn;
        _turn = (_turn + 1) % _subscriptions.Length;
        return (_subscriptions[index], _mixes[index].Next());
    }
}
