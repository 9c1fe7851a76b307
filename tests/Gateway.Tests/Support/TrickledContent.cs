using System.Net;

namespace Gateway.Tests.Support;

/// <summary>A JSON chat body sent a few bytes at a time, <paramref name="every"/> apart: a slow upload of unknown length (chunked).</summary>
internal sealed class TrickledContent(int chunks, TimeSpan every) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await stream.WriteAsync("{\"messages\":["u8.ToArray());
        for (var i = 0; i < chunks; i++)
        {
            await Task.Delay(every);
            await stream.WriteAsync("    "u8.ToArray());
            await stream.FlushAsync();
        }

        await stream.WriteAsync("]}"u8.ToArray());
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
