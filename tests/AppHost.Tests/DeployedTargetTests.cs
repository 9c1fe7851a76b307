using System.Collections.Concurrent;
using System.Net;
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
            // The fixture's first call (the deployed key, answered with API Management's key 401: no waiting), then the scenarios'.
            Assert.Equal(["deployed-key", string.Empty, "wrong-key"], received);
            await Assert.ThrowsAsync<SkipException>(scenarios.Gateway_ClientTraceparent_ReachesTheMockWithTheSameTraceId);
        }
        finally
        {
            await fixture.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(null, 600)]
    [InlineData("00:02:30", 150)]
    [InlineData("00:00:00", 0)]
    public void From_FirstCallTimeout_DefaultsToTenMinutes(string? value, int seconds)
    {
        var target = DeployedTarget.From(Configuration([("Target:GatewayUrl", "https://apim-contoso.azure-api.net"), ("Target:SubscriptionKey", "key"), ("Target:FirstCallTimeout", value)]))!;

        Assert.Equal(TimeSpan.FromSeconds(seconds), target.FirstCallTimeout);
    }

    [Theory]
    [InlineData("ten minutes")]
    [InlineData("02:00:00")]
    [InlineData("-00:01:00")]
    public void From_FirstCallTimeoutOutOfBounds_SaysSo(string value)
    {
        var ex = Assert.Throws<InvalidOperationException>(() => DeployedTarget.From(Configuration([("Target:GatewayUrl", "https://apim-contoso.azure-api.net"), ("Target:SubscriptionKey", "key"), ("Target:FirstCallTimeout", value)])));

        Assert.Contains("Target:FirstCallTimeout", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FirstCall_AccountsRefusingTheIdentity_IsRepeatedUntilTheyAccept()
    {
        // Azure OpenAI's answers while the gateway's role propagates: 401, then 403, then the completion.
        var answers = new ConcurrentQueue<(int Status, string Body)>([
            (401, """{"error":{"code":"PermissionDenied","message":"Principal does not have access to API/Operation."}}"""),
            (403, """{"error":{"code":"AuthenticationTypeDisabled","message":"Key based authentication is disabled for this resource."}}"""),
        ]);
        await using var standIn = await StandInAsync(answers);

        var (status, calls) = await new DeployedFirstCall(new HttpClient(), TimeProvider.System, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10))
            .WaitAsync(new Uri(standIn.Urls.First()), "deployed-key", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task FirstCall_ApiManagementRefusingTheKey_EndsAtOnce()
    {
        var answers = new ConcurrentQueue<(int Status, string Body)>([(401, LoadBalancingTests.InvalidKeyBody), (401, LoadBalancingTests.InvalidKeyBody)]);
        await using var standIn = await StandInAsync(answers);

        var (status, calls) = await new DeployedFirstCall(new HttpClient(), TimeProvider.System, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(10))
            .WaitAsync(new Uri(standIn.Urls.First()), "wrong-key", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task FirstCall_StillRefusedWhenTheTimeoutEnds_FailsSayingWhy()
    {
        var answers = new ConcurrentQueue<(int Status, string Body)>(Enumerable.Repeat((401, """{"error":{"code":"PermissionDenied","message":"Principal does not have access to API/Operation."}}"""), 1000));
        await using var standIn = await StandInAsync(answers);

        var ex = await Assert.ThrowsAsync<TimeoutException>(() => new DeployedFirstCall(new HttpClient(), TimeProvider.System, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(20))
            .WaitAsync(new Uri(standIn.Urls.First()), "deployed-key", CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));

        Assert.Contains("Cognitive Services OpenAI User", ex.Message, StringComparison.Ordinal);
        Assert.Contains("PermissionDenied", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>A stand-in gateway on loopback answering the queued answers in turn, then 200 with a completion.</summary>
    private static async Task<WebApplication> StandInAsync(ConcurrentQueue<(int Status, string Body)> answers)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var standIn = builder.Build();
        standIn.Run(async http =>
        {
            var (status, body) = answers.TryDequeue(out var next) ? next : (200, """{"id":"chatcmpl-1","object":"chat.completion","choices":[]}""");
            http.Response.StatusCode = status;
            await http.Response.WriteAsync(body);
        });
        await standIn.StartAsync();
        return standIn;
    }

    private static IConfiguration Configuration(IEnumerable<(string Key, string? Value)> values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, v.Value))).Build();

    private sealed class ConfiguredFixture(IConfiguration configuration) : LoadBalancedAppFixture(configuration);
}
