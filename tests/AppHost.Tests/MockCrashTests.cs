using System.ClientModel;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Azure.AI.OpenAI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace AppHost.Tests;

/// <summary>
/// Resources stopped and started as the dashboard's buttons do. A mock account that stops, as a crashed process does,
/// and comes back: the gateway must see the refused connection at once (the mocks have no proxy in front), the official
/// SDK with its default retries must not see an error while the other accounts have capacity, and the restarted account
/// must come back at the address the gateway knows. The traffic generator, stopped until started.
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class MockCrashTests(LoadBalancedAppFixture app) : IClassFixture<LoadBalancedAppFixture>
{
    private const string PriorityOne = "aoai-eastus2";
    private const string Traffic = "traffic";
    private static readonly TimeSpan Timeout = LoadBalancedAppFixture.Timeout;

    [SkippableFact]
    public async Task PriorityOneStops_ChatsCarryOnWithinSeconds_ThenItComesBackWhereItWas()
    {
        Skip.If(app.IsDeployed, "stops a local mock account");
        using var cancellation = new CancellationTokenSource(Timeout);
        var commands = app.App.Services.GetRequiredService<ResourceCommandService>();
        var chat = new AzureOpenAIClient(app.GatewayUrl, new ApiKeyCredential(app.Key)).GetChatClient("gpt-4o");

        var stopped = await commands.ExecuteCommandAsync(PriorityOne, KnownResourceCommands.StopCommand, cancellation.Token);
        Assert.True(stopped.Success, stopped.Message);
        await app.App.ResourceNotifications.WaitForResourceAsync(PriorityOne, KnownResourceStates.Finished, cancellation.Token);

        // Each call may meet the refused connection once (503, Retry-After: 1, which the SDK honours), never the
        // forward-request timeout of 120 s.
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage($"Still there? {i}")], cancellationToken: cancellation.Token);
            Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"call {i} took {watch.Elapsed}");
        }

        // It comes back at the address the gateway knows, and answers there.
        await app.StartMockAsync(PriorityOne, cancellation.Token);
    }

    [SkippableFact]
    public async Task Traffic_NotRunningByDefault_OnceStarted_DrivesEveryOperationFromBothSubscriptionsToTheMocks()
    {
        Skip.If(app.IsDeployed, "starts the local AppHost's traffic resource");
        using var cancellation = new CancellationTokenSource(Timeout);
        var commands = app.App.Services.GetRequiredService<ResourceCommandService>();
        Assert.True(app.App.ResourceNotifications.TryGetCurrentState(Traffic, out var initial), "no traffic resource");
        Assert.Equal(KnownResourceStates.NotStarted, initial.Snapshot.State?.Text);
        await ResetGatewayAsync(cancellation.Token);
        await app.ClearJournalsAsync();

        var started = await commands.ExecuteCommandAsync(Traffic, KnownResourceCommands.StartCommand, cancellation.Token);
        Assert.True(started.Success, started.Message);
        try
        {
            // The gateway counts each subscription's tokens per operation, from the usage the mocks answered with.
            string[] operations = ["v1_ChatCompletions_Create", "v1_Responses_Create", "v1_Embeddings_Create"];
            string[] subscriptions = ["chat-app", "search-indexer"];
            var missing = operations.SelectMany(o => subscriptions.Select(s => (Operation: o, Subscription: s))).ToList();
            var streamed = 0;
            var waiting = Stopwatch.StartNew();
            while ((missing.Count > 0 || streamed == 0) && waiting.Elapsed < TimeSpan.FromSeconds(75))
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellation.Token);
                var metrics = (await GatewayStateAsync(cancellation.Token)).GetProperty("tokenMetrics").EnumerateArray().ToArray();
                missing.RemoveAll(m => metrics.Any(metric => metric.GetProperty("name").GetString() == "Total Tokens"
                    && metric.GetProperty("value").GetInt64() > 0
                    && metric.GetProperty("dimensions").GetProperty("Operation ID").GetString() == m.Operation
                    && metric.GetProperty("dimensions").GetProperty("Subscription ID").GetString() == m.Subscription));
                streamed = await StreamedChatsReceivedAsync(cancellation.Token);
            }

            Assert.True(missing.Count == 0, "no tokens counted for " + string.Join(", ", missing));
            Assert.True(streamed > 0, "no streamed chat reached the mocks");
        }
        finally
        {
            await commands.ExecuteCommandAsync(Traffic, KnownResourceCommands.StopCommand, cancellation.Token);
        }

        // On a loaded machine the command may give up before the process has ended (it then reports failure); the
        // process ends all the same, so the test waits for the state to leave Running rather than trust the answer.
        await app.App.ResourceNotifications.WaitForResourceAsync(Traffic, e => e.Snapshot.State?.Text != KnownResourceStates.Running && e.Snapshot.State?.Text != KnownResourceStates.Starting, cancellation.Token);
        await ResetGatewayAsync(cancellation.Token);

        // Its log says what it did, and never a key.
        var logs = new List<string>();
        var resource = app.App.Services.GetRequiredService<DistributedApplicationModel>().Resources.Single(r => r.Name == Traffic);
        await foreach (var batch in app.App.Services.GetRequiredService<ResourceLoggerService>().GetAllAsync(resource).WithCancellation(cancellation.Token))
        {
            logs.AddRange(batch.Select(l => l.Content));
        }

        Assert.Contains(logs, l => l.Contains("Traffic started", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, l => l.Contains(LoadBalancedAppFixture.ChatAppKey, StringComparison.Ordinal) || l.Contains(LoadBalancedAppFixture.SearchIndexerKey, StringComparison.Ordinal));
    }

    private async Task<int> StreamedChatsReceivedAsync(CancellationToken cancellation)
    {
        var count = 0;
        foreach (var url in app.MockUrls.Values)
        {
            var entries = await app.MockAdmin.GetFromJsonAsync<JsonElement>(new Uri(url, "/__admin/requests"), cancellation);
            count += entries.EnumerateArray().Select(e => e.GetProperty("Request")).Count(r =>
                r.GetProperty("Path").GetString() == "/openai/v1/chat/completions"
                && r.TryGetProperty("Body", out var body) && body.ValueKind == JsonValueKind.String
                && body.GetString()!.Replace(" ", string.Empty, StringComparison.Ordinal).Contains("\"stream\":true", StringComparison.Ordinal));
        }

        return count;
    }

    private async Task ResetGatewayAsync(CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(app.GatewayUrl, "/_gateway/admin/reset?scope=all"));
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var response = await app.Http.SendAsync(request, cancellation);
        response.EnsureSuccessStatusCode();
    }

    private async Task<JsonElement> GatewayStateAsync(CancellationToken cancellation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(app.GatewayUrl, "/_gateway/admin/state"));
        request.Headers.Add("x-admin-key", LoadBalancedAppFixture.AdminKey);
        using var response = await app.Http.SendAsync(request, cancellation);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>(cancellation)).Clone();
    }
}
