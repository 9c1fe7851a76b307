using System.Collections.Concurrent;
using WireMock.Models;

namespace MockOpenAI.Server;

/// <summary>
/// The queue WireMock's server-sent-events writer drains: <see cref="TryRead"/> blocks until a chunk arrives, the
/// producer closes the queue, or the read timeout passes (WireMock then ends the stream).
/// </summary>
internal sealed class SseQueue(TimeSpan readTimeout) : IBlockingQueue<string?>, IDisposable
{
    private readonly BlockingCollection<string> _items = new();

    public void Write(string? item) => _items.Add(item ?? string.Empty);

    public bool TryRead([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? item)
    {
        try
        {
            return _items.TryTake(out item, readTimeout);
        }
        catch (ObjectDisposedException)
        {
            item = null;
            return false;
        }
    }

    public void Close() => _items.CompleteAdding();

    public void Dispose() => _items.Dispose();
}
