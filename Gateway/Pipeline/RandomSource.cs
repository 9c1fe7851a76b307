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

    /// <summary>
    /// A version 4 GUID (<c>context.RequestId</c>): unique per request without the system call that
    /// <see cref="Guid.NewGuid"/> makes for cryptographic randomness (a request id is an identifier, not a secret).
    /// </summary>
    public Guid NewGuid()
    {
        Span<byte> bytes = stackalloc byte[16];
        lock (_lock)
        {
            random.NextBytes(bytes);
        }

        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
