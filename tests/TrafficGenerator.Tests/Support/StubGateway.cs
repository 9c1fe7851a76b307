using System.Collections.Concurrent;
using System.ClientModel.Primitives;
using System.Net;
using System.Text;
using System.Text.Json;

namespace TrafficGenerator.Tests.Support;

/// <summary>
/// Stands in for the gateway behind the clients' transport: records every request (path, <c>api-key</c>, <c>Authorization</c>, JSON body) and
/// answers with the status and body the test gives.
/// </summary>
internal sealed class StubGateway(HttpStatusCode status, string body = """{"error":{"code":"429","message":"Throttled."}}""") : HttpMessageHandler
{
    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public PipelineTransport Transport => new HttpClientPipelineTransport(new HttpClient(this));

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var content = request.Content is null ? "{}" : await request.Content.ReadAsStringAsync(cancellationToken);
        Requests.Enqueue(new RecordedRequest(
            request.RequestUri!.AbsolutePath,
            request.Headers.TryGetValues("api-key", out var keys) ? string.Join(",", keys) : null,
            request.Headers.Authorization?.ToString(),
            JsonDocument.Parse(content).RootElement.Clone()));
        return new HttpResponseMessage(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
    }
}

internal sealed record RecordedRequest(string Path, string? ApiKey, string? Authorization, JsonElement Body);
