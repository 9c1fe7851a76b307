using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Policies.Elements;

public sealed class ForwardRequestPolicyTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SlowBackend = TimeSpan.FromSeconds(10);
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("""timeout-ms="300" """, 0.3)]
    [InlineData("""timeout="1" """, 1.0)]
    [Covers("forward-request", "timeout", "timeout-ms")]
    public async Task ForwardRequest_BackendSlowerThanTheTimeout_FailsWithTimeoutAfterThatLong(string timeout, double seconds)
    {
        _backend.Answer = async context =>
        {
            await Task.Delay(SlowBackend, context.RequestAborted);
            await context.Response.WriteAsync("late", context.RequestAborted);
        };
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <forward-request {{timeout}} buffer-response="false" />
              </backend>
              <on-error>
                <return-response>
                  <set-status code="504" reason="Gateway Timeout" />
                  <set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        var client = factory.CreateClient();
        using var warmUp = await SendAsync(client, HttpCompletionOption.ResponseContentRead);
        var clock = Stopwatch.StartNew();

        using var response = await SendAsync(client, HttpCompletionOption.ResponseContentRead);

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("forward-request|Timeout", response.Headers.GetValues("x-error").Single());
        Assert.InRange(clock.Elapsed.TotalSeconds, seconds, SlowBackend.TotalSeconds / 2);
    }

    [Theory]
    [InlineData("false")]
    [InlineData("true")]
    [Covers("forward-request", "buffer-response")]
    public async Task ForwardRequest_BufferResponse_HoldsTheAnswerUntilTheBackendHasFinished(string buffer)
    {
        var rest = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _backend.Answer = async context =>
        {
            context.Response.ContentType = "text/event-stream";
            await context.Response.WriteAsync("data: first\n\n", context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await rest.Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("data: second\n\n", context.RequestAborted);
        };
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
              </inbound>
              <backend>
                <forward-request buffer-response="{{buffer}}" />
              </backend>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);

        var sending = SendAsync(factory.CreateClient(), HttpCompletionOption.ResponseHeadersRead);
        if (buffer == "false")
        {
            // Streamed: the client has the headers and the first event while the backend is still writing.
            using var streamed = await sending;
            using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
            Assert.Equal(HttpStatusCode.OK, streamed.StatusCode);
            Assert.Equal("data: first", await reader.ReadLineAsync().WaitAsync(Timeout));
            rest.SetResult();
            Assert.Equal("\ndata: second\n\n", await reader.ReadToEndAsync().WaitAsync(Timeout));
            return;
        }

        // Buffered: nothing reaches the client until the backend's whole body has arrived.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.False(sending.IsCompleted);
        rest.SetResult();
        using var buffered = await sending;
        Assert.Equal(HttpStatusCode.OK, buffered.StatusCode);
        Assert.Equal("data: first\n\ndata: second\n\n", await buffered.Content.ReadAsStringAsync());
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, HttpCompletionOption completion)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("{}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        return await client.SendAsync(request, completion).WaitAsync(Timeout);
    }
}
