using Microsoft.Extensions.Configuration;

namespace AppHost.Tests;

/// <summary>The scenario suite switches from the local app to a deployed gateway through configuration alone.</summary>
public sealed class ScenarioTargetTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void From_GatewayUrlAndKeys_IsADeployedTarget()
    {
        var target = ScenarioTarget.From(Configuration(new()
        {
            ["Scenarios:Target:GatewayUrl"] = "https://apim-example.azure-api.net",
            ["Scenarios:Target:ChatAppKey"] = "chat-key",
            ["Scenarios:Target:SearchIndexerKey"] = "indexer-key",
        }));

        Assert.True(target.IsDeployed);
        Assert.Equal(new Uri("https://apim-example.azure-api.net"), target.GatewayUrl);
        Assert.Equal("chat-key", target.ChatAppKey);
        Assert.Equal("indexer-key", target.SearchIndexerKey);
    }

    [Fact]
    public void From_NoGatewayUrl_IsTheLocalApp()
    {
        var target = ScenarioTarget.From(Configuration(new() { ["Scenarios:Target:ChatAppKey"] = "ignored" }));

        Assert.False(target.IsDeployed);
        Assert.Null(LocalOnlyFactAttribute.SkipReason(target));
    }

    [Fact]
    public void From_GatewayUrlWithoutKeys_FailsNamingTheMissingSettings()
    {
        var error = Assert.Throws<InvalidOperationException>(() => ScenarioTarget.From(Configuration(new() { ["Scenarios:Target:GatewayUrl"] = "https://apim-example.azure-api.net" })));

        Assert.Equal("a deployed target needs Scenarios:Target:ChatAppKey and Scenarios:Target:SearchIndexerKey (the subscriptions' keys)", error.Message);
    }

    [Fact]
    public async Task Fixture_DeployedTarget_UsesItsUrlAndKeys_StartsNoApp_AndLocalOnlyScenariosSaySkipped()
    {
        var target = new ScenarioTarget(new Uri("https://apim-example.azure-api.net"), "chat-key", "indexer-key");
        var fixture = new LoadBalancedAppFixture(target);

        await fixture.InitializeAsync().WaitAsync(Timeout);
        try
        {
            Assert.True(fixture.IsDeployed);
            Assert.Equal(target.GatewayUrl, fixture.GatewayUrl);
            Assert.Equal("chat-key", fixture.ChatAppKey);
            Assert.Equal("indexer-key", fixture.SearchIndexerKey);
            Assert.Empty(fixture.MockUrls);
            Assert.Contains("request journals", LocalOnlyFactAttribute.SkipReason(target), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.DisposeAsync().WaitAsync(Timeout);
        }
    }

    [Fact]
    public void Current_ThisRun_IsTheLocalAppUnlessConfigured()
    {
        // CI configures no target: the suite runs every scenario against the local app.
        Assert.Equal(!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("Scenarios__Target__GatewayUrl")), ScenarioTarget.Current.IsDeployed);
        Assert.Equal(ScenarioTarget.Current.IsDeployed, new LocalOnlyFactAttribute().Skip is not null);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values).Build();
}
