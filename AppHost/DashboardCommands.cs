// Command arguments are InteractionInputs, which Aspire 13.6 marks experimental (ASPIREINTERACTION001): they are what
// lets a dashboard command ask for its numbers. A change of that API breaks this file's build, not its behaviour.
#pragma warning disable ASPIREINTERACTION001

using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Apim.Model;

namespace AppHost;

/// <summary>
/// The dashboard's buttons for chaos by hand. On each mock account: throttle, fail, hang, reset connections, slow down
/// and recover, through the mock's <c>/__mock/faults</c> (HTTP Basic, user <c>admin</c> and the mock admin password).
/// On the gateway: reset its state and show it, through <c>/_gateway/admin/</c> with the admin key. Each command asks
/// for its numbers, with defaults; run without arguments (an API client, a test) it takes the defaults. Secrets go in
/// headers only, never in a URL or a log.
/// </summary>
internal static class DashboardCommands
{
    public const string MockThrottle = "mock-throttle";
    public const string MockFail = "mock-fail";
    public const string MockHang = "mock-hang";
    public const string MockResetConnections = "mock-reset-connections";
    public const string MockSlow = "mock-slow";
    public const string MockRecover = "mock-recover";
    public const string GatewayReset = "gateway-reset";
    public const string GatewayState = "gateway-state";

    /// <summary>Every command a mock account has.</summary>
    public static readonly IReadOnlyList<string> MockCommands = [MockThrottle, MockFail, MockHang, MockResetConnections, MockSlow, MockRecover];

    private const string FaultsPath = "/__mock/faults";
    private const string AllDeployments = "*";

    /// <summary>One client for every command: a command is one short call, and the mocks and gateway are local.</summary>
    private static readonly HttpClient Http = new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>The fault commands of one mock account, which calls it with <paramref name="adminPassword"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithFaultCommands(this IResourceBuilder<ProjectResource> mock, AccountDefinition account, IResourceBuilder<ParameterResource> adminPassword)
    {
        var endpoint = mock.GetEndpoint("http");
        var deployment = new InteractionInput
        {
            Name = "deployment",
            Label = "Deployment",
            InputType = InputType.Choice,
            Options = [new(AllDeployments, "every deployment"), .. account.Deployments.Select(d => new KeyValuePair<string, string>(d.Name, d.Name))],
            Value = AllDeployments,
        };

        Task<ExecuteCommandResult> SetAsync(ExecuteCommandContext context, JsonObject fault)
        {
            if (Text(context, "deployment", AllDeployments) is { } scope && scope != AllDeployments)
            {
                fault["deployment"] = scope;
            }

            return CallMockAsync(context, mock.Resource.Name, endpoint, adminPassword, HttpMethod.Post, fault);
        }

        return mock
            .WithCommand(MockThrottle, "Throttle (429)", context => SetAsync(context, new JsonObject
            {
                ["kind"] = "throttle",
                ["seconds"] = Number(context, "seconds", 30),
                ["retryAfter"] = Number(context, "retryAfter", 10),
            }), Options("Every inference request gets Azure's 429 with this Retry-After, for a while.", "TopSpeed", Seconds(30, "How long"), Input("retryAfter", "Retry-After (seconds)", 10), deployment))
            .WithCommand(MockFail, "Fail next requests (500/503)", context => SetAsync(context, new JsonObject
            {
                ["kind"] = "fail",
                ["count"] = Number(context, "count", 5),
                ["status"] = Number(context, "status", 503),
            }), Options("The next requests get a 500 or a 503.", "ErrorCircle", Input("count", "Requests", 5), Status(), deployment))
            .WithCommand(MockHang, "Hang", context => SetAsync(context, new JsonObject
            {
                ["kind"] = "hang",
                ["seconds"] = Number(context, "seconds", 30),
            }), Options("Requests get no answer until the hang ends (then their connections drop), or the client gives up.", "HourglassHalf", Seconds(30, "How long"), deployment))
            .WithCommand(MockResetConnections, "Reset connections", context => SetAsync(context, Number(context, "seconds", 0) is > 0 and var seconds
                ? new JsonObject { ["kind"] = "reset", ["seconds"] = seconds }
                : new JsonObject { ["kind"] = "reset", ["count"] = Number(context, "count", 5) }), Options("Connections drop before any byte: the next requests, or all for a while.", "PlugDisconnected", Input("count", "Requests (when no seconds)", 5), Seconds(0, "Or for seconds (0: count requests)"), deployment))
            .WithCommand(MockSlow, "Slow down", context => SetAsync(context, new JsonObject
            {
                ["kind"] = "slow",
                ["seconds"] = Number(context, "seconds", 60),
                ["latencyMs"] = Number(context, "latencyMs", 2000),
            }), Options("Adds latency before every answer, for a while.", "Timer", Seconds(60, "How long"), Input("latencyMs", "Added latency (ms)", 2000), deployment))
            .WithCommand(MockRecover, "Recover", context => CallMockAsync(context, mock.Resource.Name, endpoint, adminPassword, HttpMethod.Delete, null), Options("Ends every fault at once (a request already slowed down still waits out its delay).", "HeartPulse"));
    }

    /// <summary>The gateway's reset and state commands, calling its admin endpoints with <paramref name="adminKey"/>.</summary>
    public static IResourceBuilder<ProjectResource> WithAdminCommands(this IResourceBuilder<ProjectResource> gateway, IResourceBuilder<ParameterResource> adminKey)
    {
        var endpoint = gateway.GetEndpoint("http");
        var scope = new InteractionInput
        {
            Name = "scope",
            Label = "What to reset",
            InputType = InputType.Choice,
            Options = [new("all", "everything"), new("counters", "rate-limit, quota and token counters"), new("caches", "caches"), new("breakers", "circuit breakers")],
            Value = "all",
        };

        return gateway
            .WithCommand(GatewayReset, "Reset state", async context =>
            {
                var chosen = Text(context, "scope", "all")!;
                using var response = await CallGatewayAsync(context, endpoint, adminKey, HttpMethod.Post, "/_gateway/admin/reset?scope=" + Uri.EscapeDataString(chosen));
                var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return CommandResults.Failure($"The gateway answered {(int)response.StatusCode}: {body}");
                }

                var cleared = JsonNode.Parse(body)?["reset"]?.AsArray().Select(s => $"{s?["name"]} ({s?["entries"]})") ?? [];
                return CommandResults.Success($"Reset {chosen}: " + string.Join(", ", cleared));
            }, Options("Clears counters, caches or circuit breakers, as POST /_gateway/admin/reset does.", "ArrowReset", scope))
            .WithCommand(GatewayState, "Show state", async context =>
            {
                using var response = await CallGatewayAsync(context, endpoint, adminKey, HttpMethod.Get, "/_gateway/admin/state");
                var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
                if (!response.IsSuccessStatusCode)
                {
                    return CommandResults.Failure($"The gateway answered {(int)response.StatusCode}: {body}");
                }

                var summary = StateSummary(JsonNode.Parse(body)!);
                return CommandResults.Success(summary.Split('\n')[0], summary, CommandResultFormat.Markdown, displayImmediately: true);
            }, Options("Which circuit breakers are open, until when, and what the counters and caches hold.", "Info"));
    }

    /// <summary>A short summary of <c>GET /_gateway/admin/state</c>: the open breakers first (the first line says how many).</summary>
    public static string StateSummary(JsonNode state)
    {
        var breakers = state["breakers"]!.AsArray();
        var open = breakers.Where(b => (string?)b!["state"] != "closed").ToArray();
        var text = new StringBuilder(open.Length == 0
            ? $"All {breakers.Count} circuit breakers closed."
            : $"{open.Length} of {breakers.Count} circuit breakers open: {string.Join(", ", open.Select(b => (string?)b!["backendId"]))}.");
        text.Append('\n');
        foreach (var breaker in open)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n- `{breaker!["backendId"]}` open until {breaker["trippedUntil"]}");
        }

        text.Append("\n\n| state | scope | entries |\n|---|---|---|");
        foreach (var entry in state["states"]!.AsArray())
        {
            text.Append(CultureInfo.InvariantCulture, $"\n| {entry!["name"]} | {entry["scope"]} | {entry["entries"]} |");
        }

        return text.ToString();
    }

    private static async Task<ExecuteCommandResult> CallMockAsync(ExecuteCommandContext context, string account, EndpointReference endpoint, IResourceBuilder<ParameterResource> adminPassword, HttpMethod method, JsonObject? fault)
    {
        var password = await adminPassword.Resource.GetValueAsync(context.CancellationToken);
        using var request = new HttpRequestMessage(method, new Uri(new Uri(endpoint.Url), FaultsPath));
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("admin:" + password)));
        if (fault is not null)
        {
            request.Content = new StringContent(fault.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await Http.SendAsync(request, context.CancellationToken);
        var body = await response.Content.ReadAsStringAsync(context.CancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var message = response.Content.Headers.ContentType?.MediaType == "application/json" ? (string?)JsonNode.Parse(body)?["error"]?["message"] : null;
            return CommandResults.Failure($"{account} answered {(int)response.StatusCode}: {message ?? body}");
        }

        var faults = JsonNode.Parse(body)!["faults"]!.AsArray();
        return CommandResults.Success(faults.Count == 0
            ? $"{account}: no fault in force."
            : $"{account}: " + string.Join("; ", faults.Select(Describe)));
    }

    private static async Task<HttpResponseMessage> CallGatewayAsync(ExecuteCommandContext context, EndpointReference endpoint, IResourceBuilder<ParameterResource> adminKey, HttpMethod method, string pathAndQuery)
    {
        using var request = new HttpRequestMessage(method, new Uri(new Uri(endpoint.Url), pathAndQuery));
        request.Headers.Add("x-admin-key", await adminKey.Resource.GetValueAsync(context.CancellationToken));
        return await Http.SendAsync(request, context.CancellationToken);
    }

    /// <summary>One fault of the mock's state, as a person reads it: <c>throttle (gpt-4o) until 10:00:30Z, Retry-After 10 s</c>.</summary>
    private static string Describe(JsonNode? fault)
    {
        var text = new StringBuilder((string?)fault!["kind"]);
        if ((string?)fault["deployment"] is { } deployment)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({deployment})");
        }

        text.Append(fault["until"] is { } until ? $" until {until}" : $" for {fault["remaining"]} request(s)");
        if (fault["retryAfter"] is { } retryAfter)
        {
            text.Append(CultureInfo.InvariantCulture, $", Retry-After {retryAfter} s");
        }

        if (fault["status"] is { } status)
        {
            text.Append(CultureInfo.InvariantCulture, $", status {status}");
        }

        if (fault["latencyMs"] is { } latency)
        {
            text.Append(CultureInfo.InvariantCulture, $", +{latency} ms");
        }

        return text.ToString();
    }

    private static CommandOptions Options(string description, string icon, params InteractionInput[] arguments) => new()
    {
        Description = description,
        IconName = icon,
        Arguments = arguments,
    };

    private static InteractionInput Input(string name, string label, int value) => new()
    {
        Name = name,
        Label = label,
        InputType = InputType.Number,
        Required = true,
        Value = value.ToString(CultureInfo.InvariantCulture),
    };

    private static InteractionInput Seconds(int value, string label) => Input("seconds", label + " (seconds)", value);

    private static InteractionInput Status() => new()
    {
        Name = "status",
        Label = "Status",
        InputType = InputType.Choice,
        Options = [new("503", "503 Service Unavailable"), new("500", "500 Internal Server Error")],
        Value = "503",
    };

    /// <summary>A whole number the caller gave, else <paramref name="fallback"/>; the mock refuses values out of range with a clear message.</summary>
    private static int Number(ExecuteCommandContext context, string name, int fallback) =>
        Text(context, name, null) is { } text && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? (int)Math.Round(value) : fallback;

    private static string? Text(ExecuteCommandContext context, string name, string? fallback) =>
        context.Arguments is { } arguments && arguments.TryGetByName(name, out var input) && !string.IsNullOrWhiteSpace(input?.Value) ? input.Value : fallback;
}
