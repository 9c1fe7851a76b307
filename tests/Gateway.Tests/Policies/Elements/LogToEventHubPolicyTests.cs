using Gateway.Policies;
using Gateway.Policies.Elements;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Gateway.Tests.Policies.Elements;

public class LogToEventHubPolicyTests
{
    [Fact]
    [Covers("log-to-eventhub", "logger-id", "partition-key")]
    public async Task LogToEventHub_WritesTheMessageWithItsLoggerAndPartitionToTheEventHubLog()
    {
        var records = await RunAsync("""
            <log-to-eventhub logger-id="usage-logger" partition-key="@(context.Subscription.Name)">@(string.Join(",", context.Operation.Id, context.Subscription.Name))</log-to-eventhub>
            """);

        var record = Assert.Single(records);
        Assert.Equal(LogLevel.Information, record.Level);
        Assert.Contains("logger usage-logger (partition chat-app): ChatCompletions_Create,chat-app", record.Message, StringComparison.Ordinal);
    }

    [Fact]
    [Covers("log-to-eventhub", "partition-id")]
    public async Task LogToEventHub_AMessageOver200KB_IsCutTo200KB()
    {
        var records = await RunAsync("""
            <log-to-eventhub logger-id="big" partition-id="1">@(new string('x', 300 * 1024))</log-to-eventhub>
            """);

        var state = Assert.Single(records).StructuredState!.ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(LogToEventHubPolicy.MaxMessageBytes, state["EventHubMessage"]!.Length);
        Assert.Equal("1", state["Partition"]);
    }

    [Fact]
    public void Truncate_NeverCutsInsideACharacter()
    {
        var text = new string('a', LogToEventHubPolicy.MaxMessageBytes - 1) + "é";

        var cut = LogToEventHubPolicy.Truncate(text);

        Assert.Equal(new string('a', LogToEventHubPolicy.MaxMessageBytes - 1), cut);
    }

    [Theory]
    [InlineData("""<log-to-eventhub logger-id="l" partition-id="1" partition-key="k">m</log-to-eventhub>""", "partition-id or partition-key, not both")]
    [InlineData("""<log-to-eventhub>m</log-to-eventhub>""", "<log-to-eventhub> requires attribute 'logger-id'")]
    [InlineData("""<log-to-eventhub logger-id="l" partition-id="first">m</log-to-eventhub>""", "partition-id must be a partition index, not 'first'")]
    public void Load_InvalidLogToEventHub_Fails(string element, string reason)
    {
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{element}</inbound></policies>", "policy.xml", PolicyScope.Api, new Gateway.Apim.NamedValues(new Dictionary<string, string?>())));

        Assert.Contains(reason, Assert.Single(error.Problems), StringComparison.Ordinal);
    }

    private static async Task<IReadOnlyList<FakeLogRecord>> RunAsync(string inbound)
    {
        using var apim = new TestApim($"""
            <policies>
              <inbound>
                {inbound}
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9", testServices: services => services.AddFakeLogging());
        using var response = await factory.CreateClient().PostChatAsync();

        return [.. factory.Services.GetFakeLogCollector().GetSnapshot().Where(r => r.Category == "Gateway.Policies.EventHub")];
    }
}
