using System.ClientModel;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Azure.AI.OpenAI;
using Gateway.Apim.Model;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;
using OpenAI.Embeddings;
using Xunit.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// The chaos suite (docs/reliability.md): twenty clients of the official SDK, with its default retries, call the
/// gateway for chat, streamed chat and embeddings from two subscriptions, while a script stops and restarts each mock
/// account in turn, throttles the priority-1 account and resets connections on another. Since one account at a time
/// misbehaves, some pool member always has capacity, so no non-streamed call may fail; a stream may break only after
/// it started, when the account serving it stops. Every call ends within a bound, the token metrics count exactly the
/// usage the clients received, and every circuit breaker closes again once the faults are gone.
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class ChaosTests(ChaosTests.ChaosAppFixture app, ITestOutputHelper output) : IClassFixture<ChaosTests.ChaosAppFixture>
{
    private const int Clients = 20;
    private const string PriorityOne = "aoai-eastus2";
    private const string Chat = "gpt-4o";
    private const string Embeddings = "text-embedding-3-small";

    /// <summary>The longest any call may take, SDK retries included: far below the policy's forward-request timeout, since every fault here is seen at once.</summary>
    private static readonly TimeSpan CallBound = TimeSpan.FromSeconds(30);

    /// <summary>A client's pause between calls: twenty clients stay within what two of the three accounts' quotas allow.</summary>
    private static readonly TimeSpan ThinkTime = TimeSpan.FromSeconds(1);

    [SkippableFact]
    public async Task TwentyClients_WhileAccountsStopThrottleAndReset_NoCallFailsOrHangs_TokensAddUp_BreakersClose()
    {
        Skip.If(app.IsDeployed, "stops and scripts the local mock accounts");
        using var whole = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var calls = new ConcurrentQueue<Call>();
        using var stopClients = new CancellationTokenSource();
        var clients = Enumerable.Range(0, Clients).Select(i => RunClientAsync(i, calls, stopClients.Token, whole.Token)).ToArray();

        var script = await RunChaosAsync(whole.Token);
        await stopClients.CancelAsync();
        await Task.WhenAll(clients);
        foreach (var line in script)
        {
            output.WriteLine(line);
        }

        var all = calls.ToArray();
        Report(all);

        // Every call ended, within the bound.
        Assert.True(all.Length > Clients * 10, $"only {all.Length} calls were made");
        var slowest = all.MaxBy(c => c.Duration)!;
        Assert.True(slowest.Duration < CallBound, $"a {slowest.Kind} call took {slowest.Duration}: {slowest.Error}");

        // No non-streamed call failed; a stream failed only after it had started.
        var failed = all.Where(c => c.Error is not null && !(c.Kind == CallKind.Stream && c.Started)).ToArray();
        Assert.True(failed.Length == 0, $"{failed.Length} calls failed while other accounts had capacity:\n" + string.Join("\n", failed.Take(10).Select(c => $"{c.Kind} at {c.At:HH:mm:ss.fff}: {c.Error}")));

        // Every breaker closes again once the faults are gone.
        var breakers = await WaitForClosedBreakersAsync(whole.Token);
        Assert.True(breakers.All(b => b.State == "closed"), "breakers still open: " + string.Join(", ", breakers.Where(b => b.State != "closed").Select(b => $"{b.BackendId} until {b.TrippedUntil}")));

        // The token metrics counted the usage the clients received, per subscription: exactly, unless a stream broke
        // after it started (its account stopped), whose prompt and the completion tokens the gateway saw are counted
        // without the client ever getting the usage chunk. Those may add at most a stream call's prompt and its
        // five completion tokens each.
        var metrics = await TokenMetricsAsync(whole.Token);
        foreach (var subscription in new[] { "chat-app", "search-indexer" })
        {
            var received = all.Where(c => c.Subscription == subscription && c.Usage is not null).Select(c => c.Usage!).ToArray();
            Assert.NotEmpty(received);
            var usage = (Prompt: received.Sum(u => u.Prompt), Completion: received.Sum(u => u.Completion));
            var counted = (Prompt: metrics.Sum("Prompt Tokens", subscription), Completion: metrics.Sum("Completion Tokens", subscription));
            var broken = all.Count(c => c.Subscription == subscription && c.Kind == CallKind.Stream && c.Error is not null && c.Usage is null);
            var streamPrompt = all.Where(c => c.Kind == CallKind.Stream && c.Usage is not null).Select(c => c.Usage!.Prompt).DefaultIfEmpty(0).Max() + 2;
            var message = $"{subscription}: clients received {usage}, the metrics counted {counted}, {broken} streams broke";
            Assert.True(counted.Prompt >= usage.Prompt && counted.Prompt - usage.Prompt <= broken * streamPrompt, message);
            Assert.True(counted.Completion >= usage.Completion && counted.Completion - usage.Completion <= broken * 5, message);
            Assert.Equal(counted.Prompt + counted.Completion, metrics.Sum("Total Tokens", subscription));
            if (broken == 0)
            {
                Assert.Equal(usage, counted);
            }
        }
    }

    private async Task RunClientAsync(int index, ConcurrentQueue<Call> calls, CancellationToken stop, CancellationToken whole)
    {
        var kind = (CallKind)(index % 3);
        var subscription = index % 2 == 0 ? "chat-app" : "search-indexer";
        var key = index % 2 == 0 ? LoadBalancedAppFixture.ChatAppKey : LoadBalancedAppFixture.SearchIndexerKey;
        var client = new AzureOpenAIClient(app.GatewayUrl, new ApiKeyCredential(key), new AzureOpenAIClientOptions { NetworkTimeout = CallBound });
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var call = new Call(kind, subscription, DateTimeOffset.UtcNow);
            var watch = Stopwatch.StartNew();
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(whole);
            bound.CancelAfter(CallBound);
            try
            {
                call.Usage = kind switch
                {
                    CallKind.Chat => await ChatAsync(client, $"Client {index}, call {n}: say hello", bound.Token),
                    CallKind.Stream => await StreamAsync(client, $"Client {index}, call {n}: stream hello", call, bound.Token),
                    _ => await EmbedAsync(client, $"client {index} call {n} embeds this sentence", bound.Token),
                };
            }
            catch (Exception ex) when (ex is ClientResultException or IOException or HttpRequestException or OperationCanceledException)
            {
                call.Error = $"{ex.GetType().Name}: {ex.Message}";
            }

            call.Duration = watch.Elapsed;
            calls.Enqueue(call);
            try
            {
                await Task.Delay(ThinkTime, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static async Task<Usage> ChatAsync(AzureOpenAIClient client, string prompt, CancellationToken cancellation)
    {
        ChatCompletion completion = await client.GetChatClient(Chat).CompleteChatAsync([new UserChatMessage(prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 5 }, cancellation);
        return new Usage(completion.Usage.InputTokenCount, completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
    }

    private static async Task<Usage?> StreamAsync(AzureOpenAIClient client, string prompt, Call call, CancellationToken cancellation)
    {
        Usage? usage = null;
        await foreach (var update in client.GetChatClient(Chat).CompleteChatStreamingAsync([new UserChatMessage(prompt)], new ChatCompletionOptions { MaxOutputTokenCount = 5 }, cancellation))
        {
            call.Started = true;
            if (update.Usage is { } received)
            {
                // Recorded as it arrives: the gateway has counted it even if the stream breaks after it.
                usage = call.Usage = new Usage(received.InputTokenCount, received.OutputTokenCount, received.TotalTokenCount);
            }
        }

        return usage;
    }

    private static async Task<Usage> EmbedAsync(AzureOpenAIClient client, string text, CancellationToken cancellation)
    {
        OpenAIEmbeddingCollection embeddings = await client.GetEmbeddingClient(Embeddings).GenerateEmbeddingsAsync([text], cancellationToken: cancellation);
        return new Usage(embeddings.Usage.InputTokenCount, 0, embeddings.Usage.TotalTokenCount);
    }

    /// <summary>The faults, one account at a time; returns what it did and when.</summary>
    private async Task<List<string>> RunChaosAsync(CancellationToken cancellation)
    {
        var log = new List<string>();
        var clock = Stopwatch.StartNew();
        void Note(string what) => log.Add($"{clock.Elapsed.TotalSeconds,6:F1} s  {what}");
        var commands = app.App.Services.GetRequiredService<ResourceCommandService>();

        await Task.Delay(TimeSpan.FromSeconds(5), cancellation);
        foreach (var account in Topology.Load(LoadBalancedAppFixture.ApimPath).Accounts.Select(a => a.Name))
        {
            var stopped = await commands.ExecuteCommandAsync(account, KnownResourceCommands.StopCommand, cancellation);
            Assert.True(stopped.Success, stopped.Message);
            await app.App.ResourceNotifications.WaitForResourceAsync(account, KnownResourceStates.Finished, cancellation);
            Note($"{account} stopped");
            await Task.Delay(TimeSpan.FromSeconds(4), cancellation);
            await app.StartMockAsync(account, cancellation);
            Note($"{account} started again");
            await Task.Delay(TimeSpan.FromSeconds(2), cancellation);
        }

        // Priority 1 throttles every chat request for a while (Retry-After: 3), then a second account resets connections.
        var throttle = await AddMappingAsync(PriorityOne, $$$"""
            {
              "Priority": 1,
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/{{{Chat}}}/" } ] }, "Methods": [ "POST" ] },
              "Response": { "StatusCode": 429, "Headers": { "Retry-After": "3", "Content-Type": "application/json" },
                            "Body": "{\"error\":{\"code\":\"429\",\"message\":\"Chaos: throttled.\"}}" }
            }
            """, cancellation);
        Note($"{PriorityOne} throttles {Chat}");

        // The throttling reached the gateway: priority 1's breaker opens. It honours Retry-After: 3, so it closes and
        // opens again while the mapping is in place; a single look can fall between two trips, so the state is
        // sampled through the whole throttling window.
        var throttled = Stopwatch.StartNew();
        var seenOpen = false;
        while (throttled.Elapsed < TimeSpan.FromSeconds(8))
        {
            var breakers = (await GatewayStateAsync(cancellation)).GetProperty("breakers").Deserialize<BreakerState[]>(JsonSerializerOptions.Web)!;
            if (!seenOpen && breakers.Any(b => b.BackendId == $"{PriorityOne}-{Chat}" && b.State == "open"))
            {
                seenOpen = true;
                Note("breakers: " + string.Join(", ", breakers.Select(b => $"{b.BackendId} {b.State}")));
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellation);
        }

        Assert.True(seenOpen, $"the breaker of {PriorityOne}-{Chat} was never seen open while its account throttled");
        await RemoveMappingAsync(PriorityOne, throttle, cancellation);
        Note($"{PriorityOne} throttles no more");

        const string ResetAccount = "aoai-swedencentral";
        var reset = await AddMappingAsync(ResetAccount, """
            {
              "Priority": 1,
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/" } ] }, "Methods": [ "POST" ] },
              "Response": { "StatusCode": 200, "Headers": { "x-mock-fault": "reset" } }
            }
            """, cancellation);
        Note($"{ResetAccount} resets every connection");
        await Task.Delay(TimeSpan.FromSeconds(6), cancellation);
        await RemoveMappingAsync(ResetAccount, reset, cancellation);
        Note($"{ResetAccount} resets no more");
        await Task.Delay(TimeSpan.FromSeconds(3), cancellation);
        return log;
    }

    private async Task<string> AddMappingAsync(string account, string mapping, CancellationToken cancellation)
    {
        using var response = await app.MockAdmin.PostAsync(new Uri(app.MockUrls[account], "/__admin/mappings"), new StringContent(mapping, Encoding.UTF8, "application/json"), cancellation);
        response.EnsureSuccessStatusCode();
        using var answer = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellation));
        return answer.RootElement.GetProperty("Guid").GetString()!;
    }

    private async Task RemoveMappingAsync(string account, string guid, CancellationToken cancellation)
    {
        using var response = await app.MockAdmin.DeleteAsync(new Uri(app.MockUrls[account], $"/__admin/mappings/{guid}"), cancellation);
        response.EnsureSuccessStatusCode();
    }

    private async Task<IReadOnlyList<BreakerState>> WaitForClosedBreakersAsync(CancellationToken cancellation)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var state = await GatewayStateAsync(cancellation);
            var breakers = state.GetProperty("breakers").Deserialize<BreakerState[]>(JsonSerializerOptions.Web)!;
            if (breakers.All(b => b.State == "closed") || deadline.Elapsed > TimeSpan.FromSeconds(30))
            {
                return breakers;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellation);
        }
    }

    private async Task<TokenMetrics> TokenMetricsAsync(CancellationToken cancellation) =>
        new((await GatewayStateAsync(cancellation)).GetProperty("tokenMetrics").Deserialize<TokenMetric[]>(JsonSerializerOptions.Web)!);

    private async Task<JsonElement> GatewayStateAsync(CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.GatewayUrl, "/_gateway/admin/state"));
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var response = await app.Http.SendAsync(request, cancellation);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).Clone();
    }

    private void Report(Call[] calls)
    {
        foreach (var group in calls.GroupBy(c => c.Kind))
        {
            var durations = group.Select(c => c.Duration.TotalMilliseconds).Order().ToArray();
            output.WriteLine($"{group.Key}: {group.Count()} calls, {group.Count(c => c.Error is not null)} failed, median {durations[durations.Length / 2]:F0} ms, slowest {durations[^1]:F0} ms");
        }

        foreach (var failure in calls.Where(c => c.Error is not null).Take(20))
        {
            output.WriteLine($"  {failure.Kind} at {failure.At:HH:mm:ss.fff} (started: {failure.Started}): {failure.Error}");
        }
    }

    public sealed class ChaosAppFixture : LoadBalancedAppFixture
    {
        protected override IEnumerable<string> ExtraArguments =>
        [
            // The subscriptions' token limit is not under test here: nothing the gateway itself refuses.
            "--Apim:NamedValues:subscription-tokens-per-minute=100000000",
        ];
    }

    private enum CallKind
    {
        Chat,
        Stream,
        Embeddings,
    }

    private sealed class Call(CallKind kind, string subscription, DateTimeOffset at)
    {
        public CallKind Kind => kind;

        public string Subscription => subscription;

        public DateTimeOffset At => at;

        public TimeSpan Duration { get; set; }

        /// <summary>A stream that delivered at least one update.</summary>
        public bool Started { get; set; }

        public Usage? Usage { get; set; }

        public string? Error { get; set; }
    }

    private sealed record Usage(int Prompt, int Completion, int Total);

    private sealed record BreakerState(string BackendId, string State, DateTimeOffset? TrippedUntil);

    private sealed record TokenMetric(string Name, Dictionary<string, string?> Dimensions, long Value);

    private sealed class TokenMetrics(TokenMetric[] metrics)
    {
        public long Sum(string name, string subscription) =>
            metrics.Where(m => m.Name == name && m.Dimensions.GetValueOrDefault("Subscription ID") == subscription).Sum(m => m.Value);
    }
}
