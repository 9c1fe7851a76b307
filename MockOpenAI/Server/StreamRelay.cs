using System.Collections.Concurrent;

namespace MockOpenAI.Server;

/// <summary>
/// Streams server-sent events asynchronously, around WireMock rather than through it. WireMock 1.25 writes an SSE
/// body by blocking a thread on a queue for the whole stream and never sees the client leave; measured with 200
/// concurrent streams on 2 cores it starved the thread pool (docs/mock.md). Here WireMock still matches the request,
/// runs the callback, writes the status and headers and records the journal entry; the callback registers the chunks
/// under an id it puts in a marker header, and a middleware placed before WireMock's writes them afterwards with
/// <c>await</c>, paced by the injected clock and stopped (and counted in <c>mockopenai.requests.cancelled</c>) when the
/// client disconnects.
/// </summary>
internal sealed class StreamRelay(TimeProvider time, MockMetrics metrics)
{
    /// <summary>The marker header; it never reaches the client.</summary>
    public const string MarkerHeader = "x-mock-stream";

    /// <summary>A registration no request picked up within this time is dropped.</summary>
    private static readonly TimeSpan Abandoned = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, PendingStream> _pending = new(StringComparer.Ordinal);
    private int _active;

    /// <summary>Streams being written right now.</summary>
    public int ActiveStreams => Volatile.Read(ref _active);

    /// <summary>Registers a stream's events, each with the time to wait before it, and returns the id for the marker header.</summary>
    public string Register(IReadOnlyList<(TimeSpan Delay, string Event)> events)
    {
        var now = time.GetUtcNow();
        if (_pending.Count > 64)
        {
            foreach (var (id, stream) in _pending)
            {
                if (now - stream.RegisteredAt > Abandoned)
                {
                    _pending.TryRemove(id, out _);
                }
            }
        }

        var key = Guid.NewGuid().ToString("N");
        _pending[key] = new PendingStream(events, now);
        return key;
    }

    /// <summary>Adds the middleware that writes registered streams once WireMock has answered; call before WireMock's own.</summary>
    public void Install(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        await next(context);
        if (context.Response.Headers.TryGetValue(MarkerHeader, out var id))
        {
            context.Response.Headers.Remove(MarkerHeader);
            if (_pending.TryRemove(id.ToString(), out var stream))
            {
                await WriteAsync(context, stream);
            }
        }
    });

    private async Task WriteAsync(HttpContext context, PendingStream stream)
    {
        var aborted = context.RequestAborted;
        Interlocked.Increment(ref _active);
        try
        {
            foreach (var (delay, text) in stream.Events)
            {
                if (delay > TimeSpan.Zero)
                {
                    await Task.Delay(delay, time, aborted);
                }

                await context.Response.WriteAsync(text, aborted);
                await context.Response.Body.FlushAsync(aborted);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away: generation stops here.
            metrics.Cancelled(MockMetrics.Streaming);
        }
        finally
        {
            Interlocked.Decrement(ref _active);
        }
    }

    private sealed record PendingStream(IReadOnlyList<(TimeSpan Delay, string Event)> Events, DateTimeOffset RegisteredAt);
}
