using Gateway.Backends;
using Gateway.Expressions;
using Gateway.Policies;
using Microsoft.AspNetCore.Http.Extensions;

namespace Gateway.Pipeline;

/// <summary>
/// The state of one request while its policy runs, and the <c>context</c> that expressions see. The policy changes the
/// request's headers in place and the query in a copy; the forwarder sends what they hold at <c>forward-request</c>.
/// </summary>
internal sealed class RequestContext : IContext, IRequest, IDisposable
{
    private readonly long _started;
    // Made on first use: most requests need few of them.
    private List<Task>? _abandoned;
    private List<Action>? _onCompleted;
    private List<Action>? _onResponseSent;
    private List<Action<ResponseState>>? _onBackendResponse;
    private List<Func<RequestContext, Task>>? _beforeOutbound;
    private Dictionary<string, string>? _pendingResponseHeaders;
    private SmallMap<Type, object>? _slots;
    private Dictionary<string, string[]>? _query;
    private UrlView? _originalUrl;
    private ResponseState _response = ResponseState.Empty();
    private List<PoolSession>? _poolSessions;
    private SmallMap<string, RateLimiting.Lease>? _leases;
    private Dictionary<string, object>? _variables;

    public RequestContext(HttpContext httpContext, GatewayServices services, ApiInfo api, OperationInfo operation, IReadOnlyDictionary<string, string> matchedParameters, SubscriptionInfo? subscription, string operationPath)
    {
        HttpContext = httpContext;
        Services = services;
        Api = api;
        Operation = operation;
        MatchedParameters = matchedParameters;
        Subscription = subscription;
        OperationPath = operationPath;
        _started = services.Time.GetTimestamp();
        Timestamp = services.Time.GetUtcNow().UtcDateTime;
        RequestId = services.Random.NewGuid();
        RequestHeaders = new(httpContext.Request.Headers);
    }

    public HttpContext HttpContext { get; }

    public GatewayServices Services { get; }

    /// <summary>The request path after the API path (e.g. <c>/deployments/gpt-4o/chat/completions</c>): what a backend URL is joined with.</summary>
    public string OperationPath { get; set; }

    public RequestHeaders RequestHeaders { get; }

    /// <summary>
    /// The query parameters as the policy sees and changes them; names compare without case, as the subscription-key
    /// check reads them. Copied from the request on first use: a request whose policy never looks at its query is
    /// forwarded with the query string it came with.
    /// </summary>
    public Dictionary<string, string[]> Query => _query ??= CopyQuery(HttpContext.Request.Query);

    /// <summary>The request's variables to set (<c>set-variable</c>): made on first use, with room for a typical policy's few.</summary>
    public Dictionary<string, object> VariableStore => _variables ??= new(8, StringComparer.Ordinal);

    /// <summary>
    /// Where <c>forward-request</c> sends the request: set by <c>set-backend-service</c>, and by <c>forward-request</c> to
    /// the member it picked when the backend is a pool.
    /// </summary>
    public BackendTarget? Target { get; set; }

    /// <summary>The backend entity <c>set-backend-service backend-id</c> named (<c>context.Backend</c>): a single backend or a pool.</summary>
    public BackendEntity? BackendEntity { get; set; }

    IBackend? IContext.Backend => BackendEntity;

    public ResponseState Response => _response;

    public LastError? Error { get; set; }

    /// <summary>Whether a <c>cors</c> policy has matched this request: the first that matches decides, later ones do nothing.</summary>
    public bool CorsApplied { get; set; }

    public IApi Api { get; }

    public IDeployment Deployment => DeploymentInfo.Local;

    public TimeSpan Elapsed => Services.Time.GetElapsedTime(_started);

    public ILastError? LastError => Error;

    public IOperation Operation { get; }

    public IProduct? Product => (Subscription as SubscriptionInfo)?.Product;

    public IRequest Request => this;

    public Guid RequestId { get; }

    IResponse IContext.Response => _response;

    public ISubscription? Subscription { get; }

    public DateTime Timestamp { get; }

    public IUser? User => (Subscription as SubscriptionInfo)?.User;

    /// <summary>The request's variables to read (<c>context.Variables</c>): reading makes no dictionary.</summary>
    public IReadOnlyDictionary<string, object> Variables => (IReadOnlyDictionary<string, object>?)_variables ?? System.Collections.ObjectModel.ReadOnlyDictionary<string, object>.Empty;

    /// <summary>Always null: the gateway has no workspaces, and API Management gives null for an API outside one.</summary>
    public IWorkspace? Workspace => null;

    public bool Tracing => System.Diagnostics.Activity.Current is { Recorded: true };

    public void Trace(string message) =>
        Policies.Elements.TracePolicy.Write(this, "context.Trace", "verbose", message ?? string.Empty, []);

    IReadOnlyDictionary<string, string[]> IRequest.Headers => RequestHeaders;

    public string? IpAddress => HttpContext.Connection.RemoteIpAddress?.ToString();

    public IReadOnlyDictionary<string, string> MatchedParameters { get; }

    /// <summary>The request body; buffered when the policy reads or replaces it.</summary>
    public MessageBody RequestBody { get; set; } = new();

    IMessageBody IRequest.Body => RequestBody;

    public string Method => HttpContext.Request.Method;

    public IUrl OriginalUrl => _originalUrl ??= new UrlView(HttpContext.Request, HttpContext.Request.Path, null);

    /// <summary>
    /// The request's URL as the backend will get it once one is chosen (by <c>set-backend-service</c>, or a pool member at
    /// <c>forward-request</c>): its scheme, host and port, its path with the operation's after it, the query; before
    /// that, the gateway's URL. Microsoft's samples read the backend's host here (docs/fidelity.md).
    /// </summary>
    public IUrl Url => Target is { } target
        ? new BackendUrlView(target, OperationPath, Query)
        : new UrlView(HttpContext.Request, HttpContext.Request.Path, Query);

    /// <summary>
    /// Whether the query (as policies have left it) has <paramref name="name"/> (decoded, compared without case, as
    /// <see cref="Query"/> and ASP.NET Core's query collection compare), without copying or parsing it into a collection.
    /// </summary>
    public bool HasQueryParameter(string name)
    {
        if (_query is not null)
        {
            return _query.ContainsKey(name);
        }

        foreach (var pair in new Microsoft.AspNetCore.WebUtilities.QueryStringEnumerable(HttpContext.Request.QueryString.Value))
        {
            if (pair.DecodeName().Span.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The query string as the policy left it (the request's own when nothing read or changed it).</summary>
    public QueryString BuildQueryString() => _query is null ? HttpContext.Request.QueryString : ToQueryString(_query);

    private static Dictionary<string, string[]> CopyQuery(IQueryCollection query)
    {
        var copy = new Dictionary<string, string[]>(query.Count, StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in query)
        {
            copy[name] = values.ToStrings();
        }

        return copy;
    }

    /// <summary>Makes <paramref name="response"/> the one to send; a pending backend response is dropped.</summary>
    public void ReplaceResponse(ResponseState response)
    {
        if (!ReferenceEquals(response, _response))
        {
            Abandon(_response);
            _response = response;
            if (response.BackendCall is not null && _onBackendResponse is not null)
            {
                foreach (var action in _onBackendResponse)
                {
                    action(response);
                }
            }
        }
    }

    /// <summary>
    /// Work for each backend response as it arrives, before the policy goes on (reading a buffered body's token usage):
    /// its body is still the backend's, and may yet be dropped.
    /// </summary>
    public void OnBackendResponse(Action<ResponseState> action) => (_onBackendResponse ??= []).Add(action);

    /// <summary>This request's session with <paramref name="pool"/> (a pool with session affinity); null before its first forward-request.</summary>
    public PoolSession? FindPoolSession(BackendPool pool) => _poolSessions?.Find(s => ReferenceEquals(s.Pool, pool));

    public void AddPoolSession(PoolSession session) => (_poolSessions ??= []).Add(session);

    /// <summary>
    /// The lease this request holds on a limiter's counter (named by the limiter and the counter), if any: a counter
    /// counts a request once, however many policies name it.
    /// </summary>
    public RateLimiting.Lease? HeldLease(string counter) => _leases is not null && _leases.TryGetValue(counter, out var lease) ? lease : null;

    /// <summary>The request's <typeparamref name="T"/> (a feature's per-request state: a token tracker, a transfer meter), if one was set.</summary>
    public bool TryGetSlot<T>([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? value)
        where T : class
    {
        value = _slots is not null && _slots.TryGetValue(typeof(T), out var slot) ? (T)slot : null;
        return value is not null;
    }

    /// <summary>Keeps <paramref name="value"/> as the request's <typeparamref name="T"/>, one per type.</summary>
    public void SetSlot<T>(T value)
        where T : class => (_slots ??= new()).Set(typeof(T), value);

    /// <summary>Records the lease that counts this request on a counter.</summary>
    public void HoldLease(string counter, RateLimiting.Lease lease) => (_leases ??= new()).Set(counter, lease);

    /// <summary>Headers policies add to whatever response the client finally gets (rate-limit counters, say).</summary>
    public void SetPendingResponseHeader(string name, string value) => (_pendingResponseHeaders ??= new(StringComparer.OrdinalIgnoreCase))[name] = value;

    /// <summary>
    /// A check of the backend's answer that may still fail the request (<c>llm-content-safety</c>'s
    /// <c>enforce-on-completions</c>): run when the backend section has ended, before the outbound section; a
    /// <see cref="PolicyExecutionException"/> it throws goes to on-error like any policy error.
    /// </summary>
    public void BeforeOutbound(Func<RequestContext, Task> check) => (_beforeOutbound ??= []).Add(check);

    /// <summary>Runs the checks registered with <see cref="BeforeOutbound"/>, in order.</summary>
    public async Task RunBeforeOutboundAsync()
    {
        foreach (var check in _beforeOutbound ?? (IEnumerable<Func<RequestContext, Task>>)[])
        {
            await check(this);
        }
    }

    /// <summary>Work that needs the final response (deferred rate-limit increments); run once the pipeline has finished.</summary>
    public void OnCompleted(Action action) => (_onCompleted ??= []).Add(action);

    /// <summary>Runs the deferred work and adds the pending headers to the response about to be sent.</summary>
    public void Complete()
    {
        foreach (var (name, value) in _pendingResponseHeaders ?? (IEnumerable<KeyValuePair<string, string>>)[])
        {
            _response.Headers.TryAdd(name, [value]);
        }

        foreach (var action in _onCompleted ?? (IEnumerable<Action>)[])
        {
            try
            {
                action();
            }
            catch (PolicyExecutionException)
            {
                // The response is decided: an increment condition that fails simply does not count the call.
            }
        }
    }

    /// <summary>Work that needs the response as sent (the bytes a quota's bandwidth counts); run once it is written or the client left.</summary>
    public void OnResponseSent(Action action) => (_onResponseSent ??= []).Add(action);

    /// <summary>Runs the work waiting for the response to be sent.</summary>
    public void ResponseSent()
    {
        foreach (var action in _onResponseSent ?? (IEnumerable<Action>)[])
        {
            try
            {
                action();
            }
            catch (PolicyExecutionException)
            {
                // The response is gone: a count that cannot be made simply is not made.
            }
        }
    }

    /// <summary>Gives the response a body held in memory (<c>set-body</c> in outbound): a backend body is dropped.</summary>
    public void ReplaceResponseBody(byte[] content)
    {
        var response = ResponseState.Empty();
        response.StatusCode = _response.StatusCode;
        response.StatusReason = _response.StatusReason;
        foreach (var (name, values) in _response.Headers)
        {
            if (!string.Equals(name, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                response.Headers[name] = values;
            }
        }

        response.Body = content;
        ReplaceResponse(response);
    }

    /// <summary>Waits until YARP has let go of every dropped backend response, before the gateway writes its own.</summary>
    public Task AbandonedCallsSettled() => _abandoned is null ? Task.CompletedTask : Task.WhenAll(_abandoned);

    public void Dispose() => Abandon(_response);

    private void Abandon(ResponseState response)
    {
        if (response.BackendCall is { } call)
        {
            (_abandoned ??= []).Add(call.Discard());
        }
    }

    internal static QueryString ToQueryString(IReadOnlyDictionary<string, string[]> query) =>
        QueryString.Create(query.SelectMany(p => p.Value.Select(v => KeyValuePair.Create(p.Key, (string?)v))));

    private sealed class BackendUrlView(BackendTarget target, string operationPath, Dictionary<string, string[]> query) : IUrl
    {
        public string Host => target.Url.Host;

        public string Path => target.PathFor(operationPath);

        public int Port => target.Url.Port;

        public IReadOnlyDictionary<string, string[]> Query => query;

        public string QueryString => ToQueryString(query).Value ?? string.Empty;

        public string Scheme => target.Url.Scheme;

        public Uri ToUri() => target.DestinationFor(operationPath, ToQueryString(query));

        public override string ToString() => ToUri().ToString();
    }

    private sealed class UrlView(HttpRequest request, PathString path, Dictionary<string, string[]>? query) : IUrl
    {
        // The original URL's query is copied only if an expression reads it (context.Request.OriginalUrl).
        private IReadOnlyDictionary<string, string[]>? _query = query;

        private IReadOnlyDictionary<string, string[]> QueryValues => _query
            ??= request.Query.ToDictionary(p => p.Key, p => p.Value.ToStrings(), StringComparer.Ordinal);

        public string Host => request.Host.Host;

        public string Path => path.Value ?? "/";

        public int Port => request.Host.Port ?? (request.IsHttps ? 443 : 80);

        public IReadOnlyDictionary<string, string[]> Query => QueryValues;

        public string QueryString => ToQueryString(QueryValues).Value ?? string.Empty;

        public string Scheme => request.Scheme;

        public Uri ToUri() => new(ToString());

        public override string ToString() => UriHelper.BuildAbsolute(Scheme, request.Host, path: path, query: new QueryString(QueryString.Length == 0 ? null : QueryString));
    }
}
