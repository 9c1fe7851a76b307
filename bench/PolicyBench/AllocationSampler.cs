using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Gateway.Bench;

/// <summary>
/// Which types a loop allocates: the runtime's allocation ticks (one event about every 100 KB allocated, naming the
/// type whose allocation crossed the mark), summed by type. A sample, not a count: a type's share of the ticks is its
/// share of the bytes, give or take the sampling.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const int AllocationTickEventId = 10;
    private const EventKeywords GCKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private long _sampledBytes;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GCKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventId != AllocationTickEventId || eventData.PayloadNames is null)
        {
            return;
        }

        var type = eventData.Payload![eventData.PayloadNames.IndexOf("TypeName")] as string ?? "?";
        var amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        var bytes = amountIndex >= 0 ? Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
        _bytesByType.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
        Interlocked.Add(ref _sampledBytes, bytes);
    }

    /// <summary>The types with the largest share, each as bytes a request out of <paramref name="bytesPerRequest"/>.</summary>
    public void Report(TextWriter writer, long bytesPerRequest, int top = 25)
    {
        var total = Interlocked.Read(ref _sampledBytes);
        if (total == 0)
        {
            writer.WriteLine("no allocation tick was seen");
            return;
        }

        writer.WriteLine($"allocation ticks by type ({total:N0} bytes sampled), as bytes a request:");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(pair => pair.Value).Take(top))
        {
            writer.WriteLine($"{(double)bytes / total * bytesPerRequest,8:N0}  {type}");
        }
    }
}
