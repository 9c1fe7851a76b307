using System.Net;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

public class RequestLogRedactionTests
{
    [Fact]
    public async Task RequestLogs_KeyInTheQuery_AreRedactedInMessageAndState_ApiVersionKept()
    {
        using var apim = new TestApim();
        await using var backend = await RecordingBackend.StartAsync();
        using var factory = new GatewayFactory(apim, backend.Url, testServices: services =>
        {
            services.AddFakeLogging();
            services.PostConfigure<LoggerFilterOptions>(options =>
            {
                options.Rules.Clear();
                options.MinLevel = LogLevel.Trace;
            });
        });
        var client = factory.CreateClient();

        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&api-key=" + GatewayFactory.PrimaryKey)
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"hi"}]}""", Encoding.UTF8, "application/json"),
        };
        using var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        // "Request finished" is logged once the response has gone, so it may come just after the client has its answer.
        List<Microsoft.Extensions.Logging.Testing.FakeLogRecord> RequestLogs() => factory.Services.GetFakeLogCollector().GetSnapshot()
            .Where(r => r.Category == "Microsoft.AspNetCore.Hosting.Diagnostics" && r.Message.StartsWith("Request ", StringComparison.Ordinal)).ToList();

        var requestLogs = RequestLogs();
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); requestLogs.Count < 2 && waited.Elapsed < TestTimeouts.Request; requestLogs = RequestLogs())
        {
            await Task.Delay(20);
        }

        Assert.Equal(2, requestLogs.Count);
        Assert.All(requestLogs, record =>
        {
            Assert.Contains("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21&api-key=[redacted]", record.Message, StringComparison.Ordinal);
            Assert.Equal("?api-version=2024-10-21&api-key=[redacted]", record.GetStructuredStateValue("QueryString"));
            Assert.DoesNotContain(GatewayFactory.PrimaryKey, record.Message + string.Join(",", record.StructuredState!), StringComparison.Ordinal);
        });
    }
}
