namespace Gateway.Pipeline;

/// <summary>A thread-safe random source the gateway's logic draws from (injected, so tests can fix it).</summary>
internal sealed class RandomSource(Random random)
{
    private readonly Lock _lock = new();

    public double NextDouble()
    {
        lock (_lock)
        {
            return random.NextDouble();
        }
    }
}
