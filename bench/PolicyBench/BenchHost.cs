using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Gateway.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Bench;

/// <summary>
/// A gateway built the way Program.cs builds it, over a copy of apim/ whose API policy is given, driven through its
/// handler on in-memory HttpContexts. Backends answer in memory (a chat completion with usage), so forwarding costs
/// the gateway's work only.
/// </summary>
internal sealed class BenchHost : IDisposable
{
    public const string Key = "bench-primary-key-000000000000001";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""");

    private readonly string _folder;
    private readonly WebApplication _app;
    private readonly GatewayHandler _handler;
    private readonly RSA _key = RSA.Create(2048);

    /// <param name="policy">The API policy, or null to keep the shipped one.</param>
    /// <param name="backends">Backend entities (topology.json's JSON) added to the copy's topology.</param>
    public BenchHost(string? policy, params string[] backends)
        : this(policy, overlay: null, backends)
    {
    }

    private BenchHost(string? policy, string? overlay, string[] backends)
    {
        _folder = Directory.CreateTempSubdirectory("policybench-").FullName;
        CopyFolder(Path.Combine(RepoRoot, "apim"), _folder);
        if (overlay is not null)
        {
            CopyFolder(Path.Combine(RepoRoot, overlay), _folder);
        }

        if (policy is not null)
        {
            File.WriteAllText(Path.Combine(_folder, "apis", "azure-openai", "policy.xml"), policy);
        }

        if (backends.Length > 0)
        {
            var path = Path.Combine(_folder, "topology.json");
            var topology = JsonNode.Parse(File.ReadAllText(path))!;
            var list = topology["backends"]!.AsArray();
            foreach (var backend in backends)
            {
                list.Add(JsonNode.Parse(backend));
            }

            File.WriteAllText(path, topology.ToJsonString());
        }

        var builder = WebApplication.CreateBuilder();
        builder.Logging.ClearProviders();
        builder.Configuration["Apim:Path"] = _folder;
        builder.Configuration["Apim:WatchForChanges"] = "false";
        builder.Configuration["Apim:NamedValues:managed-identity-client-id"] = "bench";
        builder.Configuration["Apim:Subscriptions:chat-app:PrimaryKey"] = Key;
        // As in the side-by-side benchmark: the shipped token limit refuses nothing, however many iterations run.
        builder.Configuration["Apim:NamedValues:subscription-tokens-per-minute"] = "2000000000";
        builder.Configuration["LocalIdentity:SigningKey"] = _key.ExportPkcs8PrivateKeyPem();
        builder.AddGateway();
        builder.Services.AddSingleton<IForwarderHttpClientFactory, InMemoryBackendFactory>();
        _app = builder.Build();
        _handler = _app.Services.GetRequiredService<GatewayHandler>();

        // As the gateway with its admin API (the AppHost's, the side-by-side benchmark's): its page's token sums listen
        // to the token metrics from the start, so every emitted measurement reaches a listener.
        _app.Services.GetRequiredService<Gateway.Telemetry.TokenMetricTotals>();
    }

    /// <summary>A gateway on apim/ with a folder of the repository copied over it, as the README runs the examples.</summary>
    public static BenchHost WithOverlay(string relativeFolder) => new(policy: null, relativeFolder, []);

    private static string RepoRoot => typeof(BenchHost).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>A single backend with the shipped circuit-breaker rule, answered in memory.</summary>
    public static string Backend(string id) => $$"""
        {
          "id": "{{id}}", "account": "aoai-eastus2", "deployment": "gpt-4o", "url": "http://{{id}}.bench/openai", "protocol": "http",
          "circuitBreaker": { "rules": [ {
            "name": "throttled-or-failing",
            "failureCondition": { "count": 1, "interval": "PT10S", "statusCodeRanges": [ { "min": 429, "max": 429 }, { "min": 500, "max": 599 } ] },
            "tripDuration": "PT10S", "acceptRetryAfter": true } ] }
        }
        """;

    /// <summary>A pool of the given members, all of priority 1 and weight 1.</summary>
    public static string Pool(string id, IEnumerable<string> members) => $$"""
        { "id": "{{id}}", "type": "Pool", "pool": { "services": [ {{string.Join(", ", members.Select(m => $$"""{ "id": "{{m}}", "priority": 1, "weight": 1 }"""))}} ] } }
        """;

    /// <summary>One chat completion request through the handler; <paramref name="counterKey"/> goes in <c>x-key</c>.</summary>
    public Task SendAsync(string? counterKey = null) => _handler.HandleAsync(Request(counterKey, Stream.Null));

    /// <summary>Sends one request and fails unless it was answered with <paramref name="status"/> (run once in setup).</summary>
    public async Task ExpectAsync(int status, string? counterKey = null)
    {
        using var body = new MemoryStream();
        var http = Request(counterKey, body);
        await _handler.HandleAsync(http);
        if (http.Response.StatusCode != status)
        {
            throw new InvalidOperationException($"Expected {status}, got {http.Response.StatusCode}: {Encoding.UTF8.GetString(body.ToArray())}");
        }
    }

    private static DefaultHttpContext Request(string? counterKey, Stream response)
    {
        var http = new DefaultHttpContext();
        http.Request.Method = "POST";
        http.Request.Scheme = "http";
        http.Request.Host = new HostString("localhost", 5080);
        http.Request.Path = "/openai/deployments/gpt-4o/chat/completions";
        http.Request.QueryString = new QueryString("?api-version=2024-10-21");
        http.Request.Headers["api-key"] = Key;
        http.Request.Headers.ContentType = "application/json";
        http.Request.Headers.ContentLength = Body.Length;
        if (counterKey is not null)
        {
            http.Request.Headers["x-key"] = counterKey;
        }

        http.Request.Body = new MemoryStream(Body, writable: false);
        http.Response.Body = response;
        return http;
    }

    private static void CopyFolder(string source, string destination)
    {
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    public void Dispose()
    {
        ((IDisposable)_app).Dispose();
        _key.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>The forwarder's HTTP client: every backend answers a chat completion with usage (9 + 11 tokens), in memory.</summary>
    private sealed class InMemoryBackendFactory : IForwarderHttpClientFactory
    {
        public HttpMessageInvoker CreateClient(ForwarderHttpClientContext context) => new(new Answer(), disposeHandler: true);

        private sealed class Answer : HttpMessageHandler
        {
            private static readonly byte[] Completion = Encoding.UTF8.GetBytes(
                """{"id":"chatcmpl-1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":11,"total_tokens":20}}""");

            protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            {
                var content = new ByteArrayContent(Completion);
                content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request });
            }
        }
    }
}
