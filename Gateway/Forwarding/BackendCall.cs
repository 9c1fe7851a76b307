using Gateway.Pipeline;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// One call to a backend through YARP, held open between the backend's response headers and the decision about its
/// body: the policy's backend and outbound sections run in between, then the body is streamed to the client with the
/// final status and headers, or dropped (when the policy returns another response or fails).
/// </summary>
internal sealed class BackendCall
{
    // The policy's backend and outbound sections continue on the thread that received the headers, inside YARP's
    // response transform, rather than being queued to the thread pool: when they decide at once (as they do unless an
    // expression or policy awaits something), the decision is made before YARP looks for it and the body streams
    // without a thread switch in either direction. Nothing here blocks, so running inline cannot deadlock.
    private readonly TaskCompletionSource<HttpResponseMessage> _headers = new();
    private readonly TaskCompletionSource<ResponseState?> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<HttpResponseMessage> Headers => _headers.Task;

    public Task<ForwarderError> SendTask { get; set; } = Task.FromResult(ForwarderError.None);

    /// <summary>Why buffering the backend's response failed (YARP reports only that the response failed).</summary>
    public (string Reason, string Message)? BufferingFailure { get; private set; }

    public void BufferingFailed(string reason, string message) => BufferingFailure = (reason, message);

    /// <summary>Called by the transformer when the backend's headers (and, when buffering, its whole body) have arrived.</summary>
    public Task<ResponseState?> OnHeadersAsync(HttpResponseMessage response)
    {
        _headers.TrySetResult(response);
        return _decision.Task;
    }

    /// <summary>Streams the backend body to the client with <paramref name="final"/>'s status and headers.</summary>
    public Task<ForwarderError> CompleteAsync(ResponseState final)
    {
        _decision.TrySetResult(final);
        return SendTask;
    }

    /// <summary>Drops the backend body; the gateway answers with another response.</summary>
    public Task<ForwarderError> Discard()
    {
        _decision.TrySetResult(null);
        return SendTask;
    }
}
