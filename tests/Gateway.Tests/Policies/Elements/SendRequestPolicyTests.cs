using System.Net;
using Gateway.Identity;
using Gateway.Policies;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Policies.Elements;

public sealed class SendRequestPolicyTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string ChatBody = """{"messages":[{"role":"user","content":"hi"}]}""";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    [Covers("send-request", "response-variable-name")]
    public async Task SendRequest_GetToALoopbackServer_ItsResponseIsReadableInExpressions()
    {
        using var apim = new TestApim(Policy($$"""
            <send-request mode="new" response-variable-name="side">
              <set-url>{{_backend.Url}}/side?q=1</set-url>
              <set-method>GET</set-method>
              <set-header name="x-asked-by" exists-action="override"><value>@(context.Request.Method)</value></set-header>
            </send-request>
            <return-response>
              <set-status code="200" reason="OK" />
              <set-header name="x-status" exists-action="override"><value>@(((IResponse)context.Variables["side"]).StatusCode.ToString())</value></set-header>
              <set-header name="x-ok" exists-action="override"><value>@(((IResponse)context.Variables["side"]).Body.As<JObject>(preserveContent: true)["ok"].ToString())</value></set-header>
              <set-header name="x-side-backend" exists-action="override"><value>@(((IResponse)context.Variables["side"]).Headers.GetValueOrDefault("x-backend", "none"))</value></set-header>
            </return-response>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("200", Header(response, "x-status"));
        Assert.Equal("True", Header(response, "x-ok"));
        Assert.Equal("recording", Header(response, "x-side-backend"));
        var side = Assert.Single(_backend.Requests);
        Assert.Equal("GET", side.Method);
        Assert.Equal("/side?q=1", side.PathAndQuery);
        Assert.Equal("POST", side.Headers["x-asked-by"]);
        Assert.False(side.Headers.ContainsKey("api-key"), "a new request copies nothing of the served one");
        Assert.Empty(side.Body);
    }

    [Fact]
    [Covers("send-request", "response-variable-name")]
    public async Task SendRequest_ReturnResponseNamingTheVariable_AnswersWithTheResponseReceived()
    {
        _backend.Statuses.Enqueue(201);
        using var apim = new TestApim(Policy($$"""
            <send-request response-variable-name="@("si" + "de")">
              <set-url>@(context.Variables.GetValueOrDefault<string>("never-set", "{{_backend.Url}}") + "/side")</set-url>
              <set-method>POST</set-method>
              <set-body>@(context.Request.Body.As<string>(preserveContent: true))</set-body>
            </send-request>
            <return-response response-variable-name="side" />
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("recording", Header(response, "x-backend"));
        Assert.Equal("""{"ok":true}""", await response.Content.ReadAsStringAsync());
        Assert.Equal(ChatBody, Assert.Single(_backend.Requests).Body);
    }

    [Fact]
    [Covers("send-request", "mode")]
    public async Task SendRequest_CopyMode_SendsTheServedRequestAsThePolicyLeftIt()
    {
        using var apim = new TestApim(Policy($$"""
            <set-header name="x-added" exists-action="override"><value>by-policy</value></set-header>
            <send-request mode="copy" response-variable-name="side">
              <set-url>{{_backend.Url}}/copy</set-url>
              <set-header name="x-side" exists-action="override"><value>yes</value></set-header>
            </send-request>
            <return-response><set-status code="204" reason="No Content" /></return-response>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var copy = Assert.Single(_backend.Requests);
        Assert.Equal("POST", copy.Method);
        Assert.Equal("/copy", copy.PathAndQuery);
        Assert.Equal(ChatBody, copy.Body);
        Assert.Equal(GatewayFactory.PrimaryKey, copy.Headers["api-key"]);
        Assert.Equal("by-policy", copy.Headers["x-added"]);
        Assert.Equal("yes", copy.Headers["x-side"]);
        Assert.StartsWith("application/json", copy.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal(new Uri(_backend.Url).Authority, copy.Headers["Host"]);
    }

    [Fact]
    [Covers("send-request", "mode")]
    public async Task SendRequest_CopyModeWithoutSetUrl_GoesWhereTheRequestWouldBeForwarded()
    {
        using var apim = new TestApim(Policy(
            inbound: string.Empty,
            backend: """
                <send-request mode="copy" response-variable-name="side" />
                <return-response response-variable-name="side" />
                """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var copy = Assert.Single(_backend.Requests);
        Assert.Equal(ChatPath, copy.PathAndQuery);
        Assert.Equal(ChatBody, copy.Body);
    }

    [Fact]
    [Covers("send-request", "mode")]
    public async Task SendRequest_CopyModeInOutbound_SendsNoBody()
    {
        using var apim = new TestApim(Policy(
            inbound: string.Empty,
            outbound: $$"""
                <send-request mode="copy" response-variable-name="side">
                  <set-url>{{_backend.Url}}/audit</set-url>
                </send-request>
                """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requests = _backend.Requests.ToList();
        Assert.Equal(2, requests.Count);
        Assert.Equal(ChatBody, requests[0].Body);
        Assert.Equal(("POST", "/audit", string.Empty), (requests[1].Method, requests[1].PathAndQuery, requests[1].Body));
    }

    [Theory]
    [InlineData("""timeout="20" """, 20)]
    [InlineData("", 60)]
    [Covers("send-request", "timeout")]
    public async Task SendRequest_NoAnswerWithinTheTimeout_GoesToOnErrorThen(string timeout, int seconds)
    {
        var time = new ObservedTime();
        time.SetUtcNow(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
        _backend.Answer = async context => await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, context.RequestAborted);
        using var apim = new TestApim(Policy($$"""
            <send-request response-variable-name="side" {{timeout}}>
              <set-url>{{_backend.Url}}/slow</set-url>
              <set-method>GET</set-method>
            </send-request>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url, time: time);

        var sending = SendAsync(factory.CreateClient());
        await _backend.ArrivalAsync("/slow");
        await time.WaitForTimerAsync(TimeSpan.FromSeconds(seconds));
        time.Advance(TimeSpan.FromSeconds(seconds - 1));
        await Task.Delay(100);
        Assert.False(sending.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        using var response = await sending;

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("send-request|BackendConnectionFailure", Header(response, "x-error"));
    }

    [Theory]
    [InlineData("false", 502, "send-request|BackendConnectionFailure", null)]
    [InlineData("true", 200, null, "True|True")]
    [Covers("send-request", "ignore-error")]
    public async Task SendRequest_ConnectionRefused_GoesToOnErrorUnlessIgnoredThenTheVariableIsNull(string ignoreError, int status, string? error, string? isNull)
    {
        using var apim = new TestApim(Policy($$"""
            <send-request response-variable-name="side" ignore-error="{{ignoreError}}">
              <set-url>{{Loopback.ClosedPortUrl()}}/nobody-home</set-url>
              <set-method>GET</set-method>
            </send-request>
            <return-response>
              <set-header name="x-null" exists-action="override"><value>@(context.Variables.ContainsKey("side") + "|" + (context.Variables["side"] == null))</value></set-header>
            </return-response>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url);

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(error, Header(response, "x-error"));
        Assert.Equal(isNull, Header(response, "x-null"));
    }

    [Fact]
    [Covers("send-request")]
    public async Task SendRequest_ManagedIdentityInside_SendsTheGatewaysTokenAndNoSecretReachesTheLogs()
    {
        using var apim = new TestApim(Policy($$"""
            <send-request mode="new" response-variable-name="blob" timeout="10" ignore-error="false">
              <set-url>{{_backend.Url}}/container/blob</set-url>
              <set-method>HEAD</set-method>
              <set-header name="x-secret" exists-action="override"><value>s3cr3t-value</value></set-header>
              <authentication-managed-identity resource="https://storage.azure.com/" />
            </send-request>
            <return-response>
              <set-status code="@(((IResponse)context.Variables["blob"]).StatusCode)" reason="From blob" />
            </return-response>
            """));
        using var factory = new GatewayFactory(apim, _backend.Url, testServices: services =>
        {
            services.AddFakeLogging();
            services.PostConfigure<LoggerFilterOptions>(options =>
            {
                options.Rules.Clear();
                options.MinLevel = LogLevel.Trace;
            });
        });

        using var response = await SendAsync(factory.CreateClient());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var side = Assert.Single(_backend.Requests);
        Assert.Equal("HEAD", side.Method);
        Assert.StartsWith("Bearer ", side.Headers["Authorization"], StringComparison.Ordinal);
        var token = side.Headers["Authorization"]["Bearer ".Length..];
        Assert.Equal(["https://storage.azure.com/"], new JsonWebToken(token).Audiences);
        var logs = factory.Services.GetFakeLogCollector().GetSnapshot();
        Assert.NotEmpty(logs);
        Assert.DoesNotContain(logs, r => r.Category?.StartsWith("System.Net.Http.HttpClient.send-request", StringComparison.Ordinal) == true);
        Assert.All(logs, record =>
        {
            var text = record.Message + string.Join(",", record.StructuredState ?? []);
            Assert.DoesNotContain(token, text, StringComparison.Ordinal);
            Assert.DoesNotContain("s3cr3t-value", text, StringComparison.Ordinal);
        });
    }

    [Fact]
    [Covers("send-request")]
    public async Task SendRequest_ManagedIdentityTokenFailure_GoesToOnErrorUnlessItsIgnoreErrorSaysOtherwise()
    {
        using var apim = new TestApim(Policy($$"""
            <send-request response-variable-name="strict">
              <set-url>{{_backend.Url}}/strict</set-url>
              <set-method>GET</set-method>
              <authentication-managed-identity resource="https://storage.azure.com/" />
            </send-request>
            """));
        using var lenientApim = new TestApim(Policy($$"""
            <send-request response-variable-name="lenient">
              <set-url>{{_backend.Url}}/lenient</set-url>
              <set-method>GET</set-method>
              <authentication-managed-identity resource="https://storage.azure.com/" ignore-error="true" />
            </send-request>
            <return-response response-variable-name="lenient" />
            """));
        static void Unreachable(IServiceCollection services) => services.AddSingleton<IManagedIdentityTokenProvider>(new UnreachableIdentity());
        using var strict = new GatewayFactory(apim, _backend.Url, testServices: Unreachable);
        using var lenient = new GatewayFactory(lenientApim, _backend.Url, testServices: Unreachable);

        using var failed = await SendAsync(strict.CreateClient());
        using var sentWithoutToken = await SendAsync(lenient.CreateClient());

        Assert.Equal("authentication-managed-identity|ManagedIdentityTokenFailure", Header(failed, "x-error"));
        Assert.Equal(HttpStatusCode.OK, sentWithoutToken.StatusCode);
        var sent = Assert.Single(_backend.Requests);
        Assert.Equal("/lenient", sent.PathAndQuery);
        Assert.False(sent.Headers.ContainsKey("Authorization"));
    }

    [Theory]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url><set-method>GET</set-method><proxy url="http://proxy:8080" /></send-request>""", "<proxy> inside <send-request> is not supported by this gateway")]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url><set-method>GET</set-method><authentication-certificate thumbprint="ab" /></send-request>""", "<authentication-certificate> inside <send-request> is not supported by this gateway")]
    [InlineData("""<send-request response-variable-name="r"><set-method>GET</set-method></send-request>""", "<send-request> needs <set-url> unless mode is copy")]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url></send-request>""", "<send-request> needs <set-method> unless mode is copy")]
    [InlineData("""<send-request response-variable-name="r" mode="clone"><set-url>http://x/</set-url><set-method>GET</set-method></send-request>""", "attribute 'mode' of <send-request> must be new or copy, not 'clone'")]
    [InlineData("""<send-request response-variable-name="r" timeout="1.5"><set-url>http://x/</set-url><set-method>GET</set-method></send-request>""", "attribute 'timeout' of <send-request> must be a whole number of seconds")]
    [InlineData("""<send-request response-variable-name="r" ignore-error="@(true)"><set-url>http://x/</set-url><set-method>GET</set-method></send-request>""", "attribute 'ignore-error' of <send-request> does not accept policy expressions")]
    [InlineData("""<send-request mode="copy" />""", "<send-request> requires attribute 'response-variable-name'")]
    [InlineData("""<send-request response-variable-name="r"><set-url>/relative</set-url><set-method>GET</set-method></send-request>""", "<set-url> needs an absolute http or https URL, not '/relative'")]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url><set-url>http://y/</set-url><set-method>GET</set-method></send-request>""", "<send-request> holds at most one <set-url>")]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url><set-method>GET</set-method><choose /></send-request>""", "<choose> is not allowed inside <send-request>")]
    [InlineData("""<send-request response-variable-name="r"><set-url>http://x/</set-url><set-method>GET</set-method><authentication-managed-identity resource="r" output-token-variable-name="t" /></send-request>""", "output-token-variable-name=\"t\" on <authentication-managed-identity> is not supported")]
    public void Load_InvalidSendRequest_FailsNamingTheProblem(string element, string problem)
    {
        var error = Assert.Throws<PolicyLoadException>(() => Load($"<inbound>{element}</inbound>"));

        Assert.Contains(error.Problems, p => p.Contains(problem, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""<inbound><send-request mode="copy" response-variable-name="r" /></inbound>""", true)]
    [InlineData("""<on-error><send-one-way-request mode="@("copy")"><set-url>http://x/</set-url><set-method>PUT</set-method></send-one-way-request></on-error>""", true)]
    [InlineData("""<inbound><send-request response-variable-name="r"><set-url>http://x/</set-url><set-method>GET</set-method></send-request></inbound>""", false)]
    [InlineData("""<outbound><send-request mode="copy" response-variable-name="r"><set-url>http://x/</set-url></send-request></outbound>""", false)]
    public void Load_CopyOutsideOutbound_HoldsTheRequestBodyInMemory(string sections, bool buffered)
    {
        using var document = Load(sections);

        Assert.Equal(buffered, document.UsesRequestBody);
    }

    private static PolicyDocument Load(string sections) =>
        PolicyLoader.Load($"<policies>{sections}</policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>()));

    /// <summary>An API policy that routes to the recording backend, whose on-error answers 502 with the error's source and reason in <c>x-error</c>.</summary>
    private static string Policy(string inbound, string backend = TestPolicy.Forward, string outbound = "") =>
        TestPolicy.With(TestPolicy.ToEastUs2 + inbound, backend, outbound, TestPolicy.AnswerWithError(502, "Side call failed"));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? values.Single() : null;

    private static Task<HttpResponseMessage> SendAsync(HttpClient client) => client.PostChatAsync(body: ChatBody);

    /// <summary>A managed identity whose token endpoint cannot be reached.</summary>
    private sealed class UnreachableIdentity : IManagedIdentityTokenProvider
    {
        public ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken) =>
            throw new HttpRequestException("The managed identity endpoint could not be reached.");
    }
}
