using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using MockHosting;
using MockOpenAI.OpenAI;
using MockOpenAI.Quota;
using MockOpenAI.Storage;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace MockOpenAI.Server;

/// <summary>
/// One emulated Azure OpenAI account on WireMock.Net: the inference routes, bearer-token auth (local auth disabled),
/// per-deployment quotas, streams paced chunk by chunk (written by <see cref="StreamRelay"/>), the account's stored
/// responses and model list, and WireMock's admin API with its request journal at <c>/__admin</c>.
/// </summary>
internal sealed partial class MockAccountServer(
    IOptions<MockOpenAIOptions> options,
    BearerTokenValidator tokens,
    StreamRelay relay,
    FaultInjector faults,
    AccountFaults accountFaults,
    LatencyModel latency,
    RandomFaults randomFaults,
    MockMetrics metrics,
    ResponseStore responses,
    TimeProvider time,
    IConfiguration configuration,
    ILogger<MockAccountServer> logger) : IHostedService, IDisposable
{
    private const string DeploymentPattern = "^/openai/deployments/(?<deployment>[^/]+)/";
    private const string StoredResponsePattern = "/responses/[^/]+";

    /// <summary>
    /// The emulator's own mappings rank below any mapping a test or a person adds through the admin API (WireMock
    /// prefers lower numbers), so scripted faults win while they last.
    /// </summary>
    public const int EmulatorPriority = 1000;


    private readonly MockOpenAIOptions _options = options.Value;
    private readonly Dictionary<string, DeploymentQuota> _quotas = options.Value.Deployments
        .Where(d => d.Value.Capacity > 0)
        .ToDictionary(d => d.Key, d => new DeploymentQuota(d.Value.Capacity, time), StringComparer.OrdinalIgnoreCase);
    private WireMockServer? _server;
    private DateTimeOffset _startedAt;

    public string[] Urls => _server?.Urls ?? [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _server = MockServer.Start(_options, configuration, "http://localhost:5081", "MockOpenAI admin", app =>
        {
            relay.Install(app);
            faults.Install(app, SyntheticStream);
            if (!string.IsNullOrEmpty(_options.AdminPassword))
            {
                FaultsApi.Install(app, accountFaults, time, [.. _options.Deployments.Keys], logger);
            }
        });
        _startedAt = time.GetUtcNow();
        foreach (var operation in InferenceOperation.All)
        {
            if (operation.Route is not null)
            {
                _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(DeploymentPattern + operation.Route + "$")).UsingPost())
                    .AtPriority(EmulatorPriority)
                    .RespondWith(Response.Create().WithCallback(request => HandleMeasuredAsync(request, operation, RouteFamily.Deployment)));
            }

            _server.Given(Request.Create().WithPath("/openai/v1/" + operation.V1Route).UsingPost())
                .AtPriority(EmulatorPriority)
                .RespondWith(Response.Create().WithCallback(request => HandleMeasuredAsync(request, operation, RouteFamily.V1)));
        }

        _server.Given(Request.Create().WithPath("/openai/" + InferenceOperation.Responses.V1Route).UsingPost())
            .AtPriority(EmulatorPriority)
            .RespondWith(Response.Create().WithCallback(request => HandleMeasuredAsync(request, InferenceOperation.Responses, RouteFamily.Versioned)));
        foreach (var (prefix, family) in new[] { ("/openai/v1", RouteFamily.V1), ("/openai", RouteFamily.Versioned) })
        {
            _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^" + prefix + StoredResponsePattern + "$")).UsingGet())
                .AtPriority(EmulatorPriority)
                .RespondWith(Response.Create().WithCallback(request => HandleStoredAsync(request, family, StoredAction.Get)));
            _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^" + prefix + StoredResponsePattern + "$")).UsingDelete())
                .AtPriority(EmulatorPriority)
                .RespondWith(Response.Create().WithCallback(request => HandleStoredAsync(request, family, StoredAction.Delete)));
            _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher("^" + prefix + StoredResponsePattern + "/input_items$")).UsingGet())
                .AtPriority(EmulatorPriority)
                .RespondWith(Response.Create().WithCallback(request => HandleStoredAsync(request, family, StoredAction.InputItems)));
            _server.Given(Request.Create().WithPath(prefix + "/models").UsingGet())
                .AtPriority(EmulatorPriority)
                .RespondWith(Response.Create().WithCallback(request => HandleModelsAsync(request, family)));
        }

        Log.Started(logger, _options.Account, _options.Region, string.Join(", ", _server.Urls), _options.Deployments.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.Stop();
        return Task.CompletedTask;
    }

    public void Dispose() => _server?.Dispose();

    private async Task<IResponseMessage> HandleMeasuredAsync(IRequestMessage request, InferenceOperation operation, RouteFamily family)
    {
        var started = time.GetTimestamp();
        using var activity = MockTelemetry.Start(operation);
        var (response, deployment) = await HandleAsync(request, operation, family);
        var status = response.StatusCode is int code ? code : 200;
        metrics.Completed(deployment ?? string.Empty, operation.OperationId, status, time.GetElapsedTime(started));
        if (activity is not null)
        {
            MockTelemetry.Completed(activity, deployment, status);
        }

        return response;
    }

    /// <summary>
    /// One inference request: authentication (bearer only), the deployment (from the path, or from <c>model</c> on the
    /// v1 and versioned Responses routes), the quota, the latency, the answer. Returns the response and the deployment it
    /// was for.
    /// </summary>
    private async Task<(IResponseMessage Response, string? Deployment)> HandleAsync(IRequestMessage request, InferenceOperation operation, RouteFamily family)
    {
        if (await RefusedAsync(request, family) is { } refused)
        {
            return (refused, null);
        }

        var apiVersion = Query(request, "api-version");

        JsonDocument body;
        try
        {
            body = JsonDocument.Parse(request.Body ?? string.Empty);
        }
        catch (JsonException)
        {
            return (Json(400, AzureErrors.BadRequest("The request body is not valid JSON.", null)), null);
        }

        using (body)
        {
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (Json(400, AzureErrors.BadRequest("The request body must be a JSON object.", null)), null);
            }

            var name = family != RouteFamily.Deployment
                ? body.RootElement.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.String ? model.GetString() : null
                : Uri.UnescapeDataString(request.Path.Split('/')[3]);
            if (name is null)
            {
                return (Json(400, AzureErrors.BadRequest("'model' is a required property: outside /openai/deployments/ it names the deployment.", "model")), null);
            }

            if (!_options.Deployments.TryGetValue(name, out var deployment))
            {
                return (Json(404, AzureErrors.DeploymentNotFound), name);
            }

            if (!deployment.Supports(operation))
            {
                return (Json(400, AzureErrors.OperationNotSupported(operation.Name, deployment.Model)), name);
            }

            if (await AccountFaultAsync(operation, name, apiVersion ?? "v1") is { } faulted)
            {
                return (faulted, name);
            }

            if (randomFaults.NextFails())
            {
                return (Json(500, AzureErrors.ServerError), name);
            }

            try
            {
                return operation == InferenceOperation.Responses
                    ? (await AnswerResponseAsync(request, body.RootElement, name, deployment, apiVersion ?? "v1"), name)
                    : (await AnswerAsync(request, body.RootElement, operation, name, deployment, apiVersion ?? "v1"), name);
            }
            catch (BadRequestException ex)
            {
                return (Json(400, ex.Exact ? AzureErrors.InvalidRequest(ex.Message, ex.Param, ex.Code) : AzureErrors.BadRequest(ex.Message, ex.Param)), name);
            }
        }
    }

    /// <summary>
    /// The account-wide faults (<see cref="AccountFaults"/>) for one request: a slow-down's latency on the account's
    /// clock, then the answer of the fault that decides it, or null to go on. A throttle answers the quota's 429 (the
    /// call-rate wording, the fault's Retry-After); a hang or a reset is carried out by <see cref="FaultInjector"/>
    /// once WireMock has journaled the request.
    /// </summary>
    private async Task<IResponseMessage?> AccountFaultAsync(InferenceOperation operation, string deployment, string apiVersion)
    {
        var verdict = accountFaults.Decide(deployment);
        if (verdict.Delay > TimeSpan.Zero)
        {
            await Task.Delay(verdict.Delay, time);
        }

        switch (verdict.Fault)
        {
            case { Kind: FaultKind.Throttle } throttle:
                metrics.RateLimited(deployment, operation.OperationId, "fault");
                var headers = _quotas.TryGetValue(deployment, out var quota) ? QuotaHeaders.Of(quota.Refused(throttle.RetryAfter)) : QuotaHeaders.RetryAfter(throttle.RetryAfter);
                return Json(429, AzureErrors.RateLimited(operation.OperationId, apiVersion, tokens: false, (int)Math.Ceiling(throttle.RetryAfter.TotalSeconds)), headers);
            case { Kind: FaultKind.Fail } fail:
                return Json(fail.Status, fail.Status == 503 ? AzureErrors.ServiceUnavailable : AzureErrors.ServerError);
            case { Kind: FaultKind.Hang } hang:
                return Fault(FaultInjector.AccountHang + hang.Id.ToString(CultureInfo.InvariantCulture));
            case { Kind: FaultKind.Reset }:
                return Fault("reset");
            default:
                return null;
        }
    }

    /// <summary>An answer without a body whose <see cref="FaultInjector.FaultHeader"/> tells the injector what to do.</summary>
    private static ResponseMessage Fault(string fault) => new()
    {
        StatusCode = 200,
        Headers = new Dictionary<string, WireMockList<string>>(StringComparer.OrdinalIgnoreCase) { [FaultInjector.FaultHeader] = new WireMockList<string>(fault) },
    };

    private async Task<IResponseMessage> AnswerAsync(IRequestMessage request, JsonElement body, InferenceOperation operation, string name, DeploymentOptions deployment, string apiVersion)
    {
        var delays = _options.LatencyOf(deployment);
        if (operation == InferenceOperation.Embeddings)
        {
            var embeddings = Embeddings.Parse(body, deployment.EmbeddingDimensions, deployment.Tokens);
            if (Admit(name, operation.OperationId, apiVersion, embeddings.PromptTokens, out var refused) is not { } headers)
            {
                return refused!;
            }

            await Task.Delay(latency.Request(delays), time);
            metrics.Used(name, operation.OperationId, embeddings.PromptTokens, 0);
            MockTelemetry.Answered(deployment.ReportedModel, null, embeddings.PromptTokens, null, []);
            return Json(200, Embeddings.Render(embeddings, deployment.ReportedModel), headers);
        }

        var generation = operation == InferenceOperation.ChatCompletions
            ? ChatCompletions.Parse(body, request.Body!, deployment.Tokens)
            : Completions.Parse(body, request.Body!, deployment.Tokens);
        if (Admit(name, operation.OperationId, apiVersion, generation.EstimatedTokens, out var throttled) is not { } quotaHeaders)
        {
            return throttled!;
        }

        metrics.Used(name, operation.OperationId, generation.PromptTokens, generation.CompletionTokens);
        var created = time.GetUtcNow().ToUnixTimeSeconds();
        var id = (operation == InferenceOperation.ChatCompletions ? "chatcmpl-" : "cmpl-") + NewId();
        MockTelemetry.Answered(deployment.ReportedModel, id, generation.PromptTokens, generation.CompletionTokens, generation.Choices.Select(c => c.FinishReason));
        if (generation.Stream)
        {
            var chunks = operation == InferenceOperation.ChatCompletions
                ? ChatCompletions.Chunks(id, created, deployment.ReportedModel, generation)
                : Completions.Chunks(id, created, deployment.ReportedModel, generation);
            return Stream(chunks, delays, quotaHeaders);
        }

        await Task.Delay(latency.Completion(delays, generation.Choices.Max(c => c.Tokens)), time);
        var answer = operation == InferenceOperation.ChatCompletions
            ? ChatCompletions.Completion(id, created, deployment.ReportedModel, generation)
            : Completions.Completion(id, created, deployment.ReportedModel, generation);
        return Json(200, answer, quotaHeaders);
    }

    /// <summary>
    /// A Responses API turn: the earlier turns of <c>previous_response_id</c> (from this account's store) count as input,
    /// the quota is charged as for chat, and the answer is stored unless <c>store</c> is false. A streamed turn is stored
    /// when its events are built, so it can be read while it still streams.
    /// </summary>
    private async Task<IResponseMessage> AnswerResponseAsync(IRequestMessage request, JsonElement body, string name, DeploymentOptions deployment, string apiVersion)
    {
        var operation = InferenceOperation.Responses;
        IReadOnlyList<JsonElement> history = [];
        if (Responses.PreviousResponseId(body) is { } previousId)
        {
            if (!responses.TryGet(previousId, out var previous))
            {
                return Json(400, AzureErrors.PreviousResponseNotFound(previousId));
            }

            history = responses.Conversation(previous);
        }

        var turn = Responses.Parse(body, request.Body!, deployment.Tokens, history, NewId);
        if (Admit(name, operation.OperationId, apiVersion, turn.Generation.EstimatedTokens, out var throttled) is not { } quotaHeaders)
        {
            return throttled!;
        }

        metrics.Used(name, operation.OperationId, turn.Generation.PromptTokens, turn.Generation.CompletionTokens);
        var created = time.GetUtcNow();
        var id = "resp_" + NewId();
        var messageId = "msg_" + NewId();
        MockTelemetry.Answered(deployment.ReportedModel, id, turn.Generation.PromptTokens, turn.Generation.CompletionTokens, turn.Generation.Choices.Select(c => c.FinishReason));
        var answer = Responses.Completed(turn, id, messageId, created.ToUnixTimeSeconds(), deployment.ReportedModel);
        if (turn.Generation.Stream)
        {
            Store(turn, id, created, answer);
            return Stream(Responses.Events(turn, id, messageId, created.ToUnixTimeSeconds(), deployment.ReportedModel), _options.LatencyOf(deployment), quotaHeaders);
        }

        await Task.Delay(latency.Completion(_options.LatencyOf(deployment), turn.Generation.CompletionTokens), time);
        Store(turn, id, time.GetUtcNow(), answer);
        return Json(200, answer.ToJsonString(MockJson.Options), quotaHeaders);
    }

    private void Store(ResponsesRequest turn, string id, DateTimeOffset at, JsonObject answer)
    {
        if (turn.Store)
        {
            responses.Add(new StoredResponse(
                id,
                at,
                MockJson.Freeze(answer),
                [.. turn.InputItems.Select(MockJson.Freeze)],
                [.. answer["output"]!.AsArray().Select(o => MockJson.Freeze(o!))],
                turn.PreviousResponseId));
        }
    }

    /// <summary>GET, DELETE and input_items of a stored response: authenticated like inference; another account's id is not found.</summary>
    private async Task<IResponseMessage> HandleStoredAsync(IRequestMessage request, RouteFamily family, StoredAction action)
    {
        if (await RefusedAsync(request, family) is { } refused)
        {
            return refused;
        }

        var segments = request.Path.Split('/');
        var id = Uri.UnescapeDataString(segments[action == StoredAction.InputItems ? ^2 : ^1]);
        if (action == StoredAction.Delete)
        {
            return responses.Remove(id) ? Json(200, Responses.Deleted(id)) : Json(404, AzureErrors.ResponseNotFound(id));
        }

        if (!responses.TryGet(id, out var stored))
        {
            return Json(404, AzureErrors.ResponseNotFound(id));
        }

        if (action == StoredAction.Get)
        {
            return Json(200, stored.Response.GetRawText());
        }

        try
        {
            return Json(200, Responses.InputItemList(stored.InputItems, Query(request, "order"), Query(request, "limit"), Query(request, "after")));
        }
        catch (BadRequestException ex)
        {
            return Json(400, AzureErrors.BadRequest(ex.Message, ex.Param));
        }
    }

    /// <summary>The models the account can use (<c>GET /openai/v1/models</c>, <c>/openai/models?api-version=</c>).</summary>
    private async Task<IResponseMessage> HandleModelsAsync(IRequestMessage request, RouteFamily family) =>
        await RefusedAsync(request, family) ?? Json(200, Models.List(_options.Deployments.Values, _startedAt));

    /// <summary>
    /// Authentication (a bearer token when one is sent, else an account key where the account has keys) and the api-version: required
    /// except on the v1 surface, and one the account knows. Null when the request may proceed.
    /// </summary>
    private async Task<IResponseMessage?> RefusedAsync(IRequestMessage request, RouteFamily family)
    {
        // A bearer token decides when one is sent, whatever api-key comes with it: API Management forwards the
        // caller's subscription key by default, and Microsoft's AI-Gateway labs reach Azure OpenAI that way, with a
        // managed-identity token beside it (docs/fidelity.md).
        if (Header(request, "Authorization") is { } authorization)
        {
            if (!await tokens.IsValidAsync(authorization))
            {
                return Json(401, AzureErrors.Unauthorized);
            }
        }
        else if (Header(request, "api-key") is { } key)
        {
            if (_options.ApiKeys.Count == 0)
            {
                return Json(403, AzureErrors.KeyAuthDisabled);
            }

            if (!KeyMatches(key))
            {
                return Json(401, AzureErrors.InvalidKey);
            }
        }
        else
        {
            return Json(401, AzureErrors.Unauthorized);
        }

        var apiVersion = Query(request, "api-version");
        if (family != RouteFamily.V1 && string.IsNullOrEmpty(apiVersion))
        {
            return Json(404, AzureErrors.ResourceNotFound);
        }

        var known = family == RouteFamily.V1 && MockOpenAIOptions.V1ApiVersions.Contains(apiVersion, StringComparer.Ordinal)
            || _options.ApiVersions.Contains(apiVersion, StringComparer.Ordinal);
        return !string.IsNullOrEmpty(apiVersion) && !known ? Json(400, AzureErrors.ApiVersionNotSupported) : null;
    }

    private static string? Query(IRequestMessage request, string name) =>
        request.Query is not null && request.Query.TryGetValue(name, out var values) ? values.FirstOrDefault() : null;

    /// <summary>Compares a presented key with every account key in constant time.</summary>
    private bool KeyMatches(string presented)
    {
        var digest = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var key in _options.ApiKeys)
        {
            match |= System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(digest, System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        }

        return match;
    }

    private static string NewId() => Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..24];

    /// <summary>
    /// Charges the deployment's quota. Returns the rate-limit headers for the response when the request is admitted;
    /// otherwise null, with Azure's 429 in <paramref name="refused"/>. A deployment without capacity has no quota.
    /// </summary>
    private List<KeyValuePair<string, string>>? Admit(string deployment, string operationId, string apiVersion, int estimatedTokens, out ResponseMessage? refused)
    {
        refused = null;
        if (!_quotas.TryGetValue(deployment, out var quota))
        {
            metrics.Requested(deployment, operationId, estimatedTokens);
            return [];
        }

        var decision = quota.TryAdmit(estimatedTokens);
        var headers = QuotaHeaders.Of(decision).ToList();
        if (decision.Admitted)
        {
            metrics.Requested(deployment, operationId, estimatedTokens);
            return headers;
        }

        metrics.RateLimited(deployment, operationId, decision.RefusedBy == QuotaLimit.Tokens ? "tokens" : "requests");
        var seconds = (int)Math.Ceiling(decision.RetryAfter.TotalSeconds);
        refused = Json(429, AzureErrors.RateLimited(operationId, apiVersion, decision.RefusedBy == QuotaLimit.Tokens, seconds), headers);
        return null;
    }

    private ResponseMessage Json(int status, string json, IEnumerable<KeyValuePair<string, string>>? extraHeaders = null) => new()
    {
        StatusCode = status,
        Headers = Headers("application/json", extraHeaders),
        BodyData = new BodyData { BodyAsString = json, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
    };

    /// <summary>
    /// A streamed answer: WireMock sends the headers, the relay the events (see <see cref="StreamRelay"/>). The prompt
    /// filter results leave at once; the role (or, without one, the first token) after the time to first token; each further token
    /// after the per-token time; the finish, usage and [DONE] right after the last token.
    /// </summary>
    private ResponseMessage Stream(IEnumerable<(ChunkKind Kind, string Event)> chunks, LatencyOptions delays, IEnumerable<KeyValuePair<string, string>> extraHeaders)
    {
        var events = new List<(TimeSpan, string)>();
        var started = false;
        var tokens = 0;
        foreach (var (kind, text) in chunks)
        {
            var delay = TimeSpan.Zero;
            if (kind == ChunkKind.Role || (kind is ChunkKind.Content or ChunkKind.Finish && !started))
            {
                // The first generated chunk (the role for chat, the first token for text completions).
                delay = latency.FirstToken(delays);
                started = true;
            }
            else if (kind == ChunkKind.Content && tokens > 0)
            {
                delay = latency.NextToken(delays);
            }

            tokens += kind == ChunkKind.Content ? 1 : 0;
            events.Add((delay, text));
        }

        var headers = Headers("text/event-stream; charset=utf-8", extraHeaders);
        headers[StreamRelay.MarkerHeader] = new WireMockList<string>(relay.Register(events));
        return new ResponseMessage { StatusCode = 200, Headers = headers };
    }

    /// <summary>The events of a plain streamed chat answer from the deployment in <paramref name="path"/>, for fault injection.</summary>
    private IReadOnlyList<string>? SyntheticStream(PathString path)
    {
        var segments = (path.Value ?? string.Empty).Split('/');
        if (segments.Length < 4 || !_options.Deployments.TryGetValue(Uri.UnescapeDataString(segments[3]), out var deployment) || !deployment.Supports(InferenceOperation.ChatCompletions))
        {
            return null;
        }

        using var empty = JsonDocument.Parse("{}");
        var request = GenerationRequest.Read(empty.RootElement, path.Value!, 0, deployment.Tokens, allowCompletionTokens: true);
        var id = "chatcmpl-" + NewId();
        return [.. ChatCompletions.Chunks(id, time.GetUtcNow().ToUnixTimeSeconds(), deployment.ReportedModel, request).Select(c => c.Event)];
    }

    /// <summary>The headers of every response, plus the rate-limit headers where a quota was consulted.</summary>
    private Dictionary<string, WireMockList<string>> Headers(string contentType, IEnumerable<KeyValuePair<string, string>>? extra)
    {
        var headers = new Dictionary<string, WireMockList<string>>(StringComparer.OrdinalIgnoreCase)
        {
            ["Content-Type"] = new WireMockList<string>(contentType),
            ["apim-request-id"] = new WireMockList<string>(Guid.NewGuid().ToString()),
            ["x-ms-region"] = new WireMockList<string>(_options.Region),
            ["x-request-time"] = new WireMockList<string>(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
        };
        foreach (var (name, value) in extra ?? [])
        {
            headers[name] = new WireMockList<string>(value);
        }

        return headers;
    }

    private static string? Header(IRequestMessage request, string name)
    {
        if (request.Headers is null)
        {
            return null;
        }

        foreach (var (key, values) in request.Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return values.FirstOrDefault();
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.AccountStarted, LogLevel.Information, "Azure OpenAI account {Account} ({Region}) listening on {Urls} with {Deployments} deployment(s)")]
        public static partial void Started(ILogger logger, string account, string region, string urls, int deployments);
    }
}
