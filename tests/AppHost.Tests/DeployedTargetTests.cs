using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace AppHost.Tests;

/// <summary>The scenario suite runs against a deployed gateway named by configuration, starting nothing locally.</summary>
public sealed class DeployedTargetTests
{
    [Fact]
    public void From_NoTarget_IsTheLocalApp()
    {
        Assert.Null(DeployedTarget.From(Configuration([])));
    }

    [Theory]
    [InlineData("https://apim-contoso.azure-api.net", null, "Target:SubscriptionKey is not")]
    [InlineData("apim-contoso.azure-api.net", "key", "absolute http(s) URL")]
    public void From_IncompleteTarget_SaysWhatIsMissing(string url, string? key, string reason)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => DeployedTarget.From(Configuration([("Target:GatewayUrl", url), ("Target:SubscriptionKey", key)])));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fixture_WithATarget_StartsNothing_AndTheScenariosCallTheTarget()
    {
        // A stand-in for a deployed API Management gateway on loopback, answering as API Management does.
        var received = new ConcurrentQueue<string?>();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var standIn = builder.Build();
        standIn.Run(async http =>
        {
            var key = http.Request.Headers["api-key"].ToString();
            received.Enqueue(key);
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            await http.Response.WriteAsync(key.Length == 0
                ? """{"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}"""
                : """{"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}""");
        });
        await standIn.StartAsync();
        var url = standIn.Urls.First();

        var fixture = new ConfiguredFixture(Configuration([("Target:GatewayUrl", url), ("Target:SubscriptionKey", "deployed-key"), ("Target:SecondSubscriptionKey", "second-key")]));
        await fixture.InitializeAsync();
        try
        {
            var scenarios = new LoadBalancingTests(fixture);
            await scenarios.Gateway_MissingOrWrongKey_Returns401WithApimBody(null, LoadBalancingTests.MissingKeyBody);
            await scenarios.Gateway_MissingOrWrongKey_Returns401WithApimBody("wrong-key", LoadBalancingTests.InvalidKeyBody);

            Assert.True(fixture.IsDeployed);
            Assert.Equal(new Uri(url), fixture.GatewayUrl);
            Assert.Empty(fixture.MockUrls);
            Assert.Equal("deployed-key", fixture.Key);
            Assert.Equal("second-key", fixture.SecondKey);
            Assert.Equal([string.Empty, "wrong-key"], received);
            await Assert.ThrowsAsync<SkipException>(scenarios.Gateway_ClientTraceparent_ReachesTheMockWithTheSameTraceId);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    private static IConfiguration Configuration(IEnumerable<(string Key, string? Value)> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, v.Value))).Build();

    private sealed class ConfiguredFixture(IConfiguration configuration) : LoadBalancedAppFixture(configuration);
}
