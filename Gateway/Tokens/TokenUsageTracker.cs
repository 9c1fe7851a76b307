using Gateway.Pipeline;

namespace Gateway.Tokens;

/// <summary>
/// The token usage of one request, worked out once for every token policy of the request. It is started by the first
/// such policy (in inbound, before anything is forwarded): it holds the request body to estimate the prompt, and puts
/// a <see cref="ResponseUsageTap"/> in front of the client's response stream. The usage is the one the backend reports
/// in a buffered body (read as the response arrives), or else what the tap saw of a streamed body once it has been
/// sent: the usage chunk of a stream, or the estimated prompt plus the streamed text counted. It is null when no backend
/// response reached the client with a usage (no call, an error without usage); a stream cut short counts its prompt
/// estimate and the text it sent.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001:Types that own disposable fields should be disposable", Justification = "The tap only wraps the request's own response stream, which the server disposes; it holds nothing else.")]
internal sealed class TokenUsageTracker
{
    private readonly RequestContext _context;
    private readonly ResponseUsageTap _tap;
    private readonly List<Action<TokenUsage?>> _onUsage = [];
    private ResponseState? _streaming;

    private TokenUsageTracker(RequestContext context)
    {
        _context = context;
        var http = context.HttpContext;
        var deployment = context.MatchedParameters.TryGetValue("deployment-id", out var id) ? id : null;
        Request = ModelRequest.Parse(context.RequestBody.Content, deployment);
        _tap = new ResponseUsageTap(http.Response.Body, http.Response, Request.Counter);
        http.Response.Body = _tap;
        context.OnBackendResponse(Arrived);
        context.OnCompleted(Decided);
        context.OnResponseSent(Sent);
    }

    public ModelRequest Request { get; }

    /// <summary>Whether a backend response has arrived (the last one counts, under <c>retry</c>).</summary>
    public bool BackendResponded { get; private set; }

    /// <summary>The usage of the last backend response, when its body was buffered; known before outbound runs.</summary>
    public TokenUsage? BackendUsage { get; private set; }

    /// <summary>Whether <see cref="Usage"/> is final.</summary>
    public bool Finished { get; private set; }

    /// <summary>The request's token usage, once <see cref="Finished"/>.</summary>
    public TokenUsage? Usage { get; private set; }

    /// <summary>The request's tracker, started on first use: call it before anything is forwarded.</summary>
    public static async ValueTask<TokenUsageTracker> OfAsync(RequestContext context)
    {
        if (context.TryGetSlot<TokenUsageTracker>(out var tracker))
        {
            return tracker;
        }

        if (!context.RequestBody.IsBuffered)
        {
            context.RequestBody = await MessageBody.ReadAsync(context.HttpContext.Request, context.HttpContext.RequestAborted);
        }

        tracker = new TokenUsageTracker(context);
        context.SetSlot(tracker);
        return tracker;
    }

    /// <summary>Runs <paramref name="action"/> with the usage once it is final (at once when it already is).</summary>
    public void OnUsage(Action<TokenUsage?> action)
    {
        if (Finished)
        {
            action(Usage);
        }
        else
        {
            _onUsage.Add(action);
        }
    }

    private void Arrived(ResponseState response)
    {
        BackendResponded = true;
        BackendUsage = null;
        _streaming = null;
        if (response is not { BackendBodyBuffered: true, BackendCall.Headers.IsCompletedSuccessfully: true })
        {
            _streaming = response;
            return;
        }

        try
        {
            var content = response.BackendCall.Headers.Result.Content;
            var body = content.ReadAsByteArrayAsync().GetAwaiter().GetResult();
            BackendUsage = UsageJson.FromBody(body, content.Headers.ContentType?.ToString(), Request);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ObjectDisposedException or HttpRequestException)
        {
            // A body that cannot be read again reports nothing.
        }
    }

    private void Decided()
    {
        if (!BackendResponded)
        {
            Finish(null);
        }
        else if (_streaming is null)
        {
            Finish(BackendUsage);
        }
        else if (!ReferenceEquals(_context.Response, _streaming) || _context.Response.Body is not null)
        {
            // The streamed body is dropped for another response: the client gets none of it.
            Finish(null);
        }

        // Otherwise the body still has to stream by the tap: the usage is settled once it has been sent.
    }

    private void Sent()
    {
        if (!Finished)
        {
            Finish(_streaming is null ? BackendUsage : _tap.Result(Request));
        }
    }

    private void Finish(TokenUsage? usage)
    {
        Finished = true;
        Usage = usage;
        foreach (var action in _onUsage)
        {
            action(usage);
        }

        _onUsage.Clear();
    }
}
