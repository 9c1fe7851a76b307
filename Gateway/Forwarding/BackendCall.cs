using Gateway.Pipeline;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Forwarding;

/// <summary>
/// One call to a backend through YARP, held open between the backend's response headers and the decision about its
/// body: the policy's backend and outbound sections run in between, then the body is streamed to the client with the
/// final status and headers, or dropped (when the policy returns another response or fails). The call has until its
/// deadline (<c>forward-request</c>'s timeout, from the start of the send, upload included) to receive the response
/// headers; whichever of the two comes first wins, once, and the stream after the headers is never cut by it.
/// </summary>
internal sealed class BackendCall : IDisposable
{
    private const int Waiting = 0;
    private const int HeadersFirst = 1;
    private const int DeadlineFirst = 2;

    // The policy's backend and outbound sections continue on the thread that received the headers, inside YARP's
    // response transform, rather than being queued to the thread pool: when they decide at once (as they do unless an
    // expression or policy awaits something), the decision is made before YARP looks for it and the body streams
    // without a thread switch in either direction. Nothing here blocks, so running inline cannot deadlock.
    private readonly TaskCompletionSource<HttpResponseMessage> _headers = new();
    private readonly TaskCompletionSource<ResponseState?> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Released when the send ends (YARP holds a registration on its token until then); the deadline's timer is on the
    // gateway's clock, not in here.
    private readonly CancellationTokenSource _deadline = new();
    private int _state;

    /// <summary>The backend's response headers; cancelled when the send ends without them (a failure, the deadline).</summary>
    public Task<HttpResponseMessage> Headers => _headers.Task;

    /// <summary>Cancelled when the deadline passes before the response headers arrive: YARP gives up the send.</summary>
    public CancellationToken DeadlinePassed => _deadline.Token;

    /// <summary>Whether the deadline passed before the response headers arrived.</summary>
    public bool TimedOut => Volatile.Read(ref _state) == DeadlineFirst;

    public Task<ForwarderError> SendTask { get; private set; } = Task.FromResult(ForwarderError.None);

    /// <summary>Why buffering the backend's response failed (YARP reports only that the response failed).</summary>
    public (string Reason, string Message)? BufferingFailure { get; private set; }

    public void BufferingFailed(string reason, string message) => BufferingFailure = (reason, message);

    /// <summary>
    /// Records YARP's send; when it ends, the call lets go of its resources, and <see cref="Headers"/> is cancelled if
    /// they never came, so that waiting for the headers is waiting for either.
    /// </summary>
    public void Started(Task<ForwarderError> send)
    {
        SendTask = send;
        _ = send.ContinueWith(static (_, state) => ((BackendCall)state!).Ended(), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Starts the deadline on <paramref name="time"/>; disposing the timer after the headers (or an error) stops it.</summary>
    public ITimer StartDeadline(TimeProvider time, TimeSpan timeout) =>
        time.CreateTimer(static state => ((BackendCall)state!).Expire(), this, timeout, Timeout.InfiniteTimeSpan);

    /// <summary>Called by the transformer as the response headers arrive; false when the deadline has already passed.</summary>
    public bool HeadersArrived() => Interlocked.CompareExchange(ref _state, HeadersFirst, Waiting) != DeadlineFirst;

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

    public void Dispose() => _deadline.Dispose();

    private void Ended()
    {
        Dispose();
        _headers.TrySetCanceled();
    }

    private void Expire()
    {
        if (Interlocked.CompareExchange(ref _state, DeadlineFirst, Waiting) != Waiting)
        {
            return;
        }

        try
        {
            _deadline.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The send ended (failed) just as the deadline passed: there is nothing left to cancel.
        }
    }
}
