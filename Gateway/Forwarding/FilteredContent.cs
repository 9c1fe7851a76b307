using System.Net;

namespace Gateway.Forwarding;

/// <summary>A backend response's content read through a filter (<see cref="Pipeline.ResponseState.BodyFilter"/>).</summary>
internal sealed class FilteredContent(HttpContent inner, Func<Stream, Stream> filter) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        await using var filtered = await CreateContentReadStreamAsync(cancellationToken);
        await filtered.CopyToAsync(stream, cancellationToken);
    }

    protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

    protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
        filter(await inner.ReadAsStreamAsync(cancellationToken));

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
