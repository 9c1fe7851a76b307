using Gateway.Expressions;

namespace Gateway.Pipeline;

/// <summary>
/// The response the gateway will send: the backend's (whose body YARP streams later) or one built by the policy or the
/// gateway itself (with an in-memory body).
/// </summary>
internal sealed class ResponseState : IResponse, IMessageBody
{
    private ResponseState(int statusCode, string statusReason)
    {
        StatusCode = statusCode;
        StatusReason = statusReason;
    }

    public int StatusCode { get; set; }

    public string StatusReason { get; set; }

    // Made on first use: the empty responses a request starts from (and each forward-request starts over from) are
    // mostly replaced without anyone looking at their headers.
    private Dictionary<string, string[]>? _headers;

    public Dictionary<string, string[]> Headers => _headers ??= new(StringComparer.OrdinalIgnoreCase);

    IReadOnlyDictionary<string, string[]> IResponse.Headers => Headers;

    /// <summary>A body held in memory; null when the body is the backend's stream or there is none.</summary>
    public ReadOnlyMemory<byte>? Body { get; set; }

    /// <summary>Set when this response is the backend's: its body is still to be streamed, unless <see cref="Body"/> replaced it.</summary>
    public Forwarding.BackendCall? BackendCall { get; init; }

    /// <summary>Whether the backend's body was read whole before outbound (<c>buffer-response</c>), so policies can read it.</summary>
    public bool BackendBodyBuffered { get; init; }

    /// <summary>
    /// What the backend's body goes through on its way to the client (<c>llm-content-safety</c>'s check of a streamed
    /// answer); null when it goes as it came.
    /// </summary>
    public Func<Stream, Stream>? BodyFilter { get; private set; }

    IMessageBody IResponse.Body => this;

    /// <summary>The response's <c>Content-Type</c> as it stands (its first value); null when it has none.</summary>
    public string? ContentType => Headers.TryGetValue("Content-Type", out var values) && values is [var first, ..] ? first : null;

    /// <summary>
    /// Sends the backend's body through <paramref name="filter"/> (after any filter already there). The body may come out
    /// shorter, so it is sent without the backend's <c>Content-Length</c>.
    /// </summary>
    public void FilterBody(Func<Stream, Stream> filter)
    {
        var before = BodyFilter;
        BodyFilter = before is null ? filter : body => filter(before(body));
        Headers.Remove("Content-Length");
    }

    public static ResponseState Empty() => new(StatusCodes.Status200OK, "OK");

    public static ResponseState Json(int statusCode, string reason, string json)
    {
        var response = new ResponseState(statusCode, reason) { Body = System.Text.Encoding.UTF8.GetBytes(json) };
        response.Headers["Content-Type"] = ["application/json; charset=utf-8"];
        return response;
    }

    /// <summary>
    /// <c>context.Response.Body.As&lt;T&gt;()</c>. As in API Management, reading without <paramref name="preserveContent"/>
    /// consumes the body: the caller then gets an empty one.
    /// </summary>
    public T As<T>(bool preserveContent = false)
    {
        // As in API Management, reading a body that was streaming (buffer-response="false") waits for the whole of it;
        // with preserveContent the client then gets it from the buffer, through the same token-usage tap.
        var content = Body?.ToArray()
            ?? (BackendCall is { Headers.IsCompletedSuccessfully: true } call
                ? ReadBackendAsync(call.Headers.Result.Content, CancellationToken.None).GetAwaiter().GetResult()
                : []);

        var result = MessageBody.Read<T>(content);
        if (!preserveContent)
        {
            Body = Array.Empty<byte>();
        }

        return result;
    }

    /// <summary>
    /// The whole body, for a policy that needs it all (content safety, the semantic cache): the one held in memory, or the
    /// backend's, a streamed one (<c>buffer-response="false"</c>) read to its end into the response's buffer, from which
    /// the client then gets it, as reading <c>context.Response.Body</c> of a stream does. Null for a response with neither.
    /// </summary>
    public async Task<byte[]?> ReadWholeAsync(CancellationToken cancellationToken)
    {
        if (Body is { } held)
        {
            return held.ToArray();
        }

        if (BackendCall is not { } call)
        {
            return null;
        }

        return await ReadBackendAsync((await call.Headers).Content, cancellationToken);
    }

    /// <summary>
    /// The backend's body as a policy may read it: a streamed one read to its end into the content's buffer (from which
    /// the client then gets it), and through <see cref="BodyFilter"/> when there is one, so that an expression,
    /// <c>set-body</c> or the semantic cache never sees what the filter holds back from the client (the client's copy
    /// still goes through the filter on its way out).
    /// </summary>
    private async Task<byte[]> ReadBackendAsync(HttpContent backendContent, CancellationToken cancellationToken)
    {
        if (!BackendBodyBuffered)
        {
            await backendContent.LoadIntoBufferAsync(Forwarding.PolicyTransformer.MaxBufferedResponseBytes, cancellationToken);
        }

        var content = await backendContent.ReadAsByteArrayAsync(cancellationToken);
        if (BodyFilter is not { } filter)
        {
            return content;
        }

        await using var filtered = filter(new MemoryStream(content, writable: false));
        using var copy = new MemoryStream();
        await filtered.CopyToAsync(copy, cancellationToken);
        return copy.ToArray();
    }

    public IDictionary<string, IList<string>> AsFormUrlEncodedContent(bool preserveContent = false) => MessageBody.ReadForm(As<byte[]>(preserveContent));

    public static ResponseState FromBackend(HttpResponseMessage message, Forwarding.BackendCall call, bool buffered)
    {
        var response = new ResponseState((int)message.StatusCode, message.ReasonPhrase ?? string.Empty) { BackendCall = call, BackendBodyBuffered = buffered };
        response._headers = new(message.Headers.NonValidated.Count + message.Content.Headers.NonValidated.Count, StringComparer.OrdinalIgnoreCase);
        // The backend's headers as they came, not re-parsed (a parsed Server header, say, would split into two).
        foreach (var (name, values) in message.Headers.NonValidated)
        {
            if (!Forwarding.HopByHopHeaders.Contains(name))
            {
                response.Headers[name] = [.. values];
            }
        }

        foreach (var (name, values) in message.Content.Headers.NonValidated)
        {
            if (!Forwarding.HopByHopHeaders.Contains(name))
            {
                response.Headers[name] = [.. values];
            }
        }

        if (message.Headers.NonValidated.Contains("Transfer-Encoding"))
        {
            // A chunked body has no length to promise (RFC 9112 6.3).
            response.Headers.Remove("Content-Length");
        }

        return response;
    }
}
