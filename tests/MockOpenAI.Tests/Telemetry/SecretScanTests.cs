using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using MockOpenAI.Server;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.Telemetry;

/// <summary>
/// The gateway and two mock accounts in one process, each wired as its Program wires it, with OpenTelemetry on (as under
/// the AppHost) and every log level recorded: a run of the usual calls leaves none of its secrets in any log record,
/// span or metric point of any of them.
/// </summary>
[Collection(ProcessWideTelemetry.Name)]
public sealed class SecretScanTests
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private const string ChatBody = """{"messages":[{"role":"user","content":"Say hello."}],"max_tokens":8}""";
    private const string AdminUser = "admin";

    /// <param name="identityProvider">
    /// Where the gateway's managed-identity tokens come from: the local issuer (as under the AppHost), or Azure.Identity
    /// (as in front of real accounts; here its credential asks the local issuer, so the mocks accept its tokens).
    /// </param>
    [Theory]
    [InlineData("local")]
    [InlineData("azure")]
    public async Task FullScenario_NoLogRecordSpanOrMetricOfTheGatewayOrTheMocks_HoldsASecret(string identityProvider)
    {
        var secrets = new List<Secret>
        {
            Secret.NewKey("chat-app-primary-key", out var chatPrimary),
            Secret.NewKey("chat-app-secondary-key", out var chatSecondary),
            Secret.NewKey("search-indexer-primary-key", out var indexerPrimary),
            Secret.NewKey("search-indexer-secondary-key", out var indexerSecondary),
            Secret.NewKey("wrong-subscription-key", out var wrongKey),
            Secret.NewKey("gateway-admin-key", out var gatewayAdminKey),
            Secret.NewKey("wrong-gateway-admin-key", out var wrongGatewayAdminKey),
            Secret.NewKey("account-key", out var accountKey),
            Secret.NewKey("wrong-account-key", out var wrongAccountKey),
        };
        var primaryAdmin = AdminCredentials("eastus2-admin-password", secrets);
        var secondaryAdmin = AdminCredentials("swedencentral-admin-password", secrets);
        var wrongAdmin = AdminCredentials("wrong-admin-password", secrets);
        using var signingKey = RSA.Create(2048);
        secrets.Add(SigningKeySecret(signingKey));

        var primaryTelemetry = new TelemetryCapture("mock eastus2");
        var secondaryTelemetry = new TelemetryCapture("mock swedencentral");
        var gatewayTelemetry = new TelemetryCapture("gateway");
        var captures = new[] { gatewayTelemetry, primaryTelemetry, secondaryTelemetry };

        // The service defaults record spans and OpenTelemetry logs only when an OTLP endpoint is set, as the AppHost sets
        // one: this one has nobody listening (its exports fail and are dropped); the in-memory exporters get everything.
        var otlp = $"http://127.0.0.1:{HostedMockAccount.FreePort()}";
        IReadOnlyList<Secret> planted;
        RecordingTokenProvider tokens;
        HostedMockAccount? primary = null;
        HostedMockAccount? secondary = null;
        InProcessGateway? gateway = null;
        try
        {
            primary = await HostedMockAccount.StartAsync(MockSettings("aoai-eastus2", "eastus2", primaryAdmin.Password, accountKey, signingKey, otlp), primaryTelemetry.AddTo);
            primaryTelemetry.Attach(primary.Services);
            secondary = await HostedMockAccount.StartAsync(MockSettings("aoai-swedencentral", "swedencentral", secondaryAdmin.Password, accountKey, signingKey, otlp), secondaryTelemetry.AddTo);
            secondaryTelemetry.Attach(secondary.Services);
            gateway = new InProcessGateway(
                GatewaySettings(primary.Url, secondary.Url, signingKey, otlp, identityProvider, gatewayAdminKey, (chatPrimary, chatSecondary), (indexerPrimary, indexerSecondary)),
                services =>
                {
                    gatewayTelemetry.AddTo(services);
                    services.AddSingleton<ITokenCredentialFactory>(sp => new IssuerCredentialFactory(sp.GetRequiredService<LocalTokenIssuer>()));
                    RecordingTokenProvider.Decorate(services);
                }).Start();
            gatewayTelemetry.Attach(gateway.Services);
            tokens = gateway.Services.GetRequiredService<RecordingTokenProvider>();
            using var client = gateway.CreateClient();
            using var mocks = new HttpClient();

            // Chat (the priority-1 account), a stream, embeddings with the key in the query, a Responses turn.
            using (var chat = await SendAsync(client, ChatPath, ChatBody, ("api-key", chatPrimary)))
            {
                Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
                Assert.Equal("eastus2", chat.Headers.GetValues("x-ms-region").Single());
            }

            using (var stream = await SendAsync(client, ChatPath, """{"messages":[{"role":"user","content":"Count."}],"max_tokens":8,"stream":true,"stream_options":{"include_usage":true}}""", ("api-key", chatPrimary)))
            {
                Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
                Assert.Contains("data: [DONE]", await stream.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request), StringComparison.Ordinal);
            }

            using (var embeddings = await SendAsync(client, EmbeddingsPath + "&api-key=" + chatSecondary, """{"input":"hello"}"""))
            {
                Assert.Equal(HttpStatusCode.OK, embeddings.StatusCode);
            }

            using (var turn = await SendAsync(client, "/openai/v1/responses", """{"model":"gpt-4o","input":"hi","max_output_tokens":16}""", ("api-key", chatPrimary)))
            {
                Assert.Equal(HttpStatusCode.OK, turn.StatusCode);
            }

            // Keys in the wrong places, and a wrong key: each a 401 from the gateway.
            using (var inQuery = await SendAsync(client, ChatPath + "&subscription-key=" + indexerSecondary, ChatBody))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, inQuery.StatusCode);
            }

            using (var apimHeader = await SendAsync(client, ChatPath, ChatBody, ("Ocp-Apim-Subscription-Key", indexerPrimary)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, apimHeader.StatusCode);
            }

            using (var wrong = await SendAsync(client, ChatPath, ChatBody, ("api-key", wrongKey)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            }

            // The gateway's admin endpoint, with its key and with a wrong one.
            using (var state = await GetAsync(client, "/_gateway/admin/state", ("x-admin-key", gatewayAdminKey)))
            {
                Assert.Equal(HttpStatusCode.OK, state.StatusCode);
            }

            using (var refused = await GetAsync(client, "/_gateway/admin/state", ("x-admin-key", wrongGatewayAdminKey)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            // The priority-1 account's admin API scripts one 429; the next chat fails over to the other account.
            using (var mapping = await SendAsync(mocks, primary.Url + "/__admin/mappings", ThrottleOnce, ("Authorization", primaryAdmin.Header)))
            {
                Assert.Equal(HttpStatusCode.Created, mapping.StatusCode);
            }

            using (var journal = await GetAsync(mocks, primary.Url + "/__admin/requests", ("Authorization", primaryAdmin.Header)))
            {
                Assert.Equal(HttpStatusCode.OK, journal.StatusCode);
            }

            using (var refused = await GetAsync(mocks, secondary.Url + "/__admin/mappings", ("Authorization", wrongAdmin.Header)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            using (var failover = await SendAsync(client, ChatPath, ChatBody, ("api-key", chatPrimary)))
            {
                Assert.Equal(HttpStatusCode.OK, failover.StatusCode);
                Assert.Equal("swedencentral", failover.Headers.GetValues("x-ms-region").Single());
            }

            // An account called directly with its key, and with a wrong one.
            using (var direct = await SendAsync(mocks, secondary.Url + ChatPath, ChatBody, ("api-key", accountKey)))
            {
                Assert.Equal(HttpStatusCode.OK, direct.StatusCode);
            }

            using (var refused = await SendAsync(mocks, secondary.Url + ChatPath, ChatBody, ("api-key", wrongAccountKey)))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            }

            planted = Plant(gateway.Services);
        }
        finally
        {
            // Stopping each service flushes its exporters: what the scan reads is complete.
            if (gateway is not null)
            {
                await gateway.DisposeAsync();
            }

            if (secondary is not null)
            {
                await secondary.DisposeAsync();
            }

            if (primary is not null)
            {
                await primary.DisposeAsync();
            }
        }

        Assert.IsType(identityProvider == "azure" ? typeof(AzureTokenProvider) : typeof(LocalTokenIssuer), tokens.Inner);
        Assert.NotEmpty(tokens.Tokens);
        foreach (var token in tokens.Tokens.Distinct())
        {
            secrets.Add(new Secret("managed-identity token", [token, token[(token.LastIndexOf('.') + 1)..]]));
        }

        AssertTheScanSawEverySignal(captures);
        var leaks = SecretScan.Find(captures, secrets);
        Assert.True(leaks.Count == 0, "Secrets in telemetry:\n" + string.Join("\n", leaks.Take(30)));

        // The scanner's own check: what was planted in each kind of record is found there (a log record by both
        // logger providers).
        var found = SecretScan.Find([gatewayTelemetry], planted);
        foreach (var secret in planted)
        {
            var channel = secret.Name["planted ".Length..];
            Assert.Contains(found, f => f.Secret == secret.Name && f.Channel == channel);
            if (channel.StartsWith("log ", StringComparison.Ordinal))
            {
                Assert.Contains(found, f => f.Secret == secret.Name && f.Channel == "OpenTelemetry " + channel);
            }
        }
    }

    /// <summary>Each service recorded logs at Trace and Debug, spans and metrics: a scan of nothing would prove nothing.</summary>
    private static void AssertTheScanSawEverySignal(TelemetryCapture[] captures)
    {
        foreach (var capture in captures)
        {
            var levels = SecretScan.LogLevels(capture);
            Assert.True(levels.GetValueOrDefault(LogLevel.Debug) > 0, $"{capture.Service}: no Debug log records ({string.Join(", ", levels)})");
            Assert.NotEmpty(capture.OpenTelemetryLogs);
            Assert.NotEmpty(capture.Spans);
            Assert.NotEmpty(capture.Metrics);
        }

        var gateway = captures[0];
        Assert.True(captures.Sum(c => SecretScan.LogLevels(c).GetValueOrDefault(LogLevel.Trace)) > 0, "no Trace log records");
        Assert.Contains(gateway.Spans, s => s.Source.Name == GatewayTelemetry.SourceName);
        Assert.Contains(gateway.Spans, s => s.Kind == ActivityKind.Server);
        Assert.Contains(gateway.Spans, s => s.Kind == ActivityKind.Client);
        Assert.Contains(gateway.Metrics, m => m.MeterName == PolicyMetrics.MeterName);
        Assert.All(captures[1..], mock => Assert.Contains(mock.Metrics, m => m.MeterName == MockMetrics.MeterName));
    }

    /// <summary>
    /// A secret of its own in each kind of record the scan reads, put there through the gateway's own logger factory,
    /// activity source and meter factory; each secret's name ends with the channel it must be found in.
    /// </summary>
    private static IReadOnlyList<Secret> Plant(IServiceProvider gateway)
    {
        var logMessage = Secret.NewKey("planted log message", out var message);
        var logState = Secret.NewKey("planted log state", out var state);
        var logScope = Secret.NewKey("planted log scope", out var scope);
        var logException = Secret.NewKey("planted log exception", out var exception);
        var spanAttribute = Secret.NewKey("planted span attribute", out var attribute);
        var spanEvent = Secret.NewKey("planted span event", out var eventValue);
        var spanStatus = Secret.NewKey("planted span status", out var status);
        var metricDimension = Secret.NewKey("planted metric dimension", out var dimension);

        var logger = gateway.GetRequiredService<ILoggerFactory>().CreateLogger("SecretScan.Planted");
        List<KeyValuePair<string, object?>> stateOnly = [new("Planted", state)];
        var thrown = new InvalidOperationException(exception);
        using (logger.BeginScope(new Dictionary<string, object?> { ["Planted"] = scope }))
        {
            logger.Log(LogLevel.Trace, new EventId(1), message, null, (text, _) => text);
            logger.Log(LogLevel.Trace, new EventId(2), stateOnly, null, (_, _) => "a state value only");
            logger.Log(LogLevel.Debug, new EventId(3), "no secret in the message", thrown, (text, _) => text);
        }

        using (var activity = GatewayTelemetry.Source.StartActivity("planted"))
        {
            Assert.NotNull(activity);
            activity.SetTag("planted", attribute);
            activity.AddEvent(new ActivityEvent("planted", tags: new ActivityTagsCollection { ["planted"] = eventValue }));
            activity.SetStatus(ActivityStatusCode.Error, status);
        }

        using var meter = gateway.GetRequiredService<IMeterFactory>().Create(PolicyMetrics.MeterName);
        meter.CreateCounter<long>("planted").Add(1, new KeyValuePair<string, object?>("planted", dimension));
        return [logMessage, logState, logScope, logException, spanAttribute, spanEvent, spanStatus, metricDimension];
    }

    private const string ThrottleOnce = """
        {
          "Priority": 1,
          "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/gpt-4o/" } ] }, "Methods": [ "POST" ] },
          "Response": { "StatusCode": 429, "Headers": { "Retry-After": "1", "Content-Type": "application/json" },
                        "Body": "{\"error\":{\"code\":\"429\",\"message\":\"Scripted throttling.\"}}" },
          "Scenario": "one-429", "SetStateTo": "over", "TimesInSameState": 1
        }
        """;

    private static (string Password, string Header) AdminCredentials(string name, List<Secret> secrets)
    {
        var secret = Secret.NewKey(name, out var password);
        var basic = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUser}:{password}"));
        secrets.Add(secret with { Forms = [.. secret.Forms, basic] });
        return (password, "Basic " + basic);
    }

    /// <summary>
    /// The local issuer's private key: its PEM lines (but the first, mostly the fixed ASN.1 preamble) and its private
    /// exponent and primes as base64.
    /// </summary>
    private static Secret SigningKeySecret(RSA key)
    {
        var lines = key.ExportPkcs8PrivateKeyPem().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var parameters = key.ExportParameters(includePrivateParameters: true);
        return new Secret("local identity signing key",
        [
            .. lines[2..^1],
            Convert.ToBase64String(parameters.D!),
            Convert.ToBase64String(parameters.P!),
            Convert.ToBase64String(parameters.Q!),
        ]);
    }

    private static Dictionary<string, string?> MockSettings(string account, string region, string adminPassword, string accountKey, RSA signingKey, string otlp) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp,
        ["MockOpenAI:Account"] = account,
        ["MockOpenAI:Region"] = region,
        ["MockOpenAI:AdminPassword"] = adminPassword,
        ["MockOpenAI:ApiKeys:0"] = accountKey,
        ["MockOpenAI:Latency:TimeToFirstToken"] = "00:00:00",
        ["MockOpenAI:Latency:PerOutputToken"] = "00:00:00",
        ["MockOpenAI:Latency:PerRequest"] = "00:00:00",
        ["MockOpenAI:Latency:Jitter"] = "0",
        ["LocalIdentity:PublicKey"] = signingKey.ExportSubjectPublicKeyInfoPem(),
    };

    private static Dictionary<string, string?> GatewaySettings(string primaryUrl, string secondaryUrl, RSA signingKey, string otlp, string identityProvider, string adminKey, (string Primary, string Secondary) chatApp, (string Primary, string Secondary) searchIndexer)
    {
        var settings = new Dictionary<string, string?>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp,
            ["Identity:Provider"] = identityProvider,
            ["Apim:WatchForChanges"] = "false",
            ["Apim:NamedValues:managed-identity-client-id"] = "secret-scan-client-id",
            ["Apim:Subscriptions:chat-app:PrimaryKey"] = chatApp.Primary,
            ["Apim:Subscriptions:chat-app:SecondaryKey"] = chatApp.Secondary,
            ["Apim:Subscriptions:search-indexer:PrimaryKey"] = searchIndexer.Primary,
            ["Apim:Subscriptions:search-indexer:SecondaryKey"] = searchIndexer.Secondary,
            ["LocalIdentity:SigningKey"] = signingKey.ExportPkcs8PrivateKeyPem(),
            ["Gateway:AdminKey"] = adminKey,
        };
        foreach (var account in new[] { "aoai-eastus2", "aoai-swedencentral", "aoai-japaneast" })
        {
            foreach (var deployment in new[] { "gpt-4o", "text-embedding-3-small" })
            {
                settings[$"Apim:Backends:{account}-{deployment}:Url"] = (account == "aoai-eastus2" ? primaryUrl : secondaryUrl) + "/openai";
            }
        }

        return settings;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string url, string json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request).WaitAsync(TestTimeouts.Request);
    }

    private static async Task<HttpResponseMessage> GetAsync(HttpClient client, string url, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await client.SendAsync(request).WaitAsync(TestTimeouts.Request);
    }
}
