using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using System.Globalization;

namespace Gateway.Bench;

/// <summary>
/// Which types a loop allocates: the runtime's randomized allocation sampling (.NET 10's <c>AllocationSampled</c>
/// events, keyword 0x80000000000: on average one sample every 100 KB, at a random byte, so every allocation has its fair
/// chance), each sample weighed up to the bytes it stands for, summed by type. The older allocation ticks name the
/// object that crossed a fixed mark, which a loop doing the same allocations in the same order biases towards whatever
/// follows a large allocation.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords AllocationSamplingKeyword = (EventKeywords)0x80000000000;
    private const double MeanSamplingDistance = 100 * 1024;
    private readonly ConcurrentDictionary<string, double> _bytesByType = new();
    private long _samples;

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Informational, AllocationSamplingKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (eventData.EventName != "AllocationSampled" || eventData.PayloadNames is null)
        {
            return;
        }

        var typeAt = eventData.PayloadNames.IndexOf("TypeName");
        var sizeAt = eventData.PayloadNames.IndexOf("ObjectSize");
        if (typeAt < 0 || sizeAt < 0)
        {
            return;
        }

        var type = eventData.Payload![typeAt] as string ?? "?";
        var size = Convert.ToDouble(eventData.Payload[sizeAt], CultureInfo.InvariantCulture);
        // An object of size s is sampled with probability 1 - e^(-s/d): weighed by its inverse, the sum estimates the bytes.
        var bytes = size / (1 - Math.Exp(-size / MeanSamplingDistance));
        _bytesByType.AddOrUpdate(type, static (_, bytes) => bytes, static (_, sum, bytes) => sum + bytes, bytes);
        Interlocked.Increment(ref _samples);
    }

    /// <summary>The types with the largest share, each as bytes a request out of <paramref name="bytesPerRequest"/>.</summary>
    public void Report(TextWriter writer, long bytesPerRequest, int top = 25)
    {
        var total = _bytesByType.Values.Sum();
        if (total == 0)
        {
            writer.WriteLine("no allocation sample was seen (the runtime's allocation sampling needs .NET 10)");
            return;
        }

        writer.WriteLine($"allocation samples by type ({Interlocked.Read(ref _samples):N0} samples), as bytes a request:");
        foreach (var (type, bytes) in _bytesByType.OrderByDescending(pair => pair.Value).Take(top))
        {
            writer.WriteLine($"{bytes / total * bytesPerRequest,8:N0}  {type}");
        }
    }
}
