using Gateway.Pipeline;

namespace Gateway.RateLimiting;

/// <summary>
/// The bytes one request moves between its client and the gateway, for quota bandwidth: the request body (its size
/// when the gateway holds it in memory, otherwise what forwarding read of it) and the response body written to the
/// client. One meter a request, however many quotas ask.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The counting streams only wrap the request's own body streams, which the server disposes; they hold nothing else.")]
internal sealed class TransferMeter
{
    private readonly long _bufferedRequestBytes;
    private readonly CountingStream? _request;
    private readonly CountingStream _response;

    private TransferMeter(RequestContext context)
    {
        var http = context.HttpContext;
        if (context.RequestBody.IsBuffered)
        {
            _bufferedRequestBytes = context.RequestBody.Content.Length;
        }
        else
        {
            _request = new CountingStream(http.Request.Body);
            http.Request.Body = _request;
        }

        _response = new CountingStream(http.Response.Body);
        http.Response.Body = _response;
    }

    /// <summary>The request and response body bytes so far.</summary>
    public long Bytes => _bufferedRequestBytes + (_request?.Count ?? 0) + _response.Count;

    /// <summary>The request's meter, started on first use (before anything is forwarded or written).</summary>
    public static TransferMeter Of(RequestContext context)
    {
        if (context.TryGetSlot<TransferMeter>(out var meter))
        {
            return meter;
        }

        meter = new TransferMeter(context);
        context.SetSlot(meter);
        return meter;
    }
}
