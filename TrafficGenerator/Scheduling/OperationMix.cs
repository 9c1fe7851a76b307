namespace TrafficGenerator.Scheduling;

/// <summary>
/// Picks operations in proportion to their weights, deterministically and evenly spread (smooth weighted round robin,
/// as nginx balances upstreams): with weights 4, 2, 2, 2 every run of 10 picks holds 4, 2, 2 and 2 of them, and no
/// operation waits more than a cycle. Not thread-safe: one scheduling loop owns it.
/// </summary>
internal sealed class OperationMix
{
    private readonly (TrafficOperation Operation, int Weight)[] _weights;
    private readonly int[] _current;
    private readonly int _total;

    public OperationMix(IEnumerable<(TrafficOperation Operation, int Weight)> weights)
    {
        _weights = [.. weights.Where(w => w.Weight > 0)];
        if (_weights.Length == 0)
        {
            throw new ArgumentException("At least one operation needs a positive weight.", nameof(weights));
        }

        _current = new int[_weights.Length];
        _total = _weights.Sum(w => w.Weight);
    }

    /// <summary>The mix of <paramref name="mix"/>'s weights.</summary>
    public static OperationMix From(MixOptions mix) => new(
    [
        (TrafficOperation.Chat, mix.Chat),
        (TrafficOperation.StreamedChat, mix.StreamedChat),
        (TrafficOperation.Responses, mix.Responses),
        (TrafficOperation.Embeddings, mix.Embeddings),
    ]);

    /// <summary>The next operation.</summary>
    public TrafficOperation Next()
    {
        var chosen = 0;
        for (var i = 0; i < _weights.Length; i++)
        {
            _current[i] += _weights[i].Weight;
            if (_current[i] > _current[chosen])
            {
                chosen = i;
            }
        }

        _current[chosen] -= _total;
        return _weights[chosen].Operation;
    }
}
