using Gateway.Pipeline;

namespace Gateway.RateLimiting;

/// <summary>Passes reads and writes through to another stream and counts the bytes that went by (quota bandwidth).</summary>
internal sealed class CountingStream(Stream inner) : ObservingStream(inner)
{
    private long _count;

    /// <summary>The bytes read from or written to the stream so far.</summary>
    public long Count => Interlocked.Read(ref _count);

    protected override void OnRead(ReadOnlySpan<byte> bytes) => Interlocked.Add(ref _count, bytes.Length);

    protected override void OnWritten(ReadOnlySpan<byte> bytes) => Interlocked.Add(ref _count, bytes.Length);
}
