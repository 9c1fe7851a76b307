using System.ClientModel;
using System.Diagnostics;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Azure.AI.OpenAI;
using Microsoft.Extensions.DependencyInjection;
using OpenAI.Chat;

namespace AppHost.Tests;

/// <summary>
/// A mock account that stops, as a crashed process does, and comes back: the gateway must see the refused connection
/// at once (the mocks have no proxy in front), the official SDK with its default retries must not see an error while
/// the other accounts have capacity, and the restarted account must come back at the address the gateway knows.
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class MockCrashTests(LoadBalancedAppFixture app) : IClassFixture<LoadBalancedAppFixture>
{
    private const string PriorityOne = "aoai-eastus2";
    private static readonly TimeSpan Timeout = LoadBalancedAppFixture.Timeout;

    [SkippableFact]
    public async Task PriorityOneStops_ChatsCarryOnWithinSeconds_ThenItComesBackWhereItWas()
    {
        Skip.If(app.IsDeployed, "stops a local mock account");
        using var cancellation = new CancellationTokenSource(Timeout);
        var commands = app.App.Services.GetRequiredService<ResourceCommandService>();
        var url = app.MockUrls[PriorityOne];
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

        var started = await commands.ExecuteCommandAsync(PriorityOne, KnownResourceCommands.StartCommand, cancellation.Token);
        Assert.True(started.Success, started.Message);
        await app.App.ResourceNotifications.WaitForResourceHealthyAsync(PriorityOne, cancellation.Token);

        Assert.Equal(url, app.App.GetEndpoint(PriorityOne, "http"));
        using var health = await app.Http.GetAsync(new Uri(url, "/health"), cancellation.Token);
        Assert.True(health.IsSuccessStatusCode);
    }
}
