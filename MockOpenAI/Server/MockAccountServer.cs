using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using MockOpenAI.Identity;
using MockOpenAI.OpenAI;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;
using WireMock.Types;
using WireMock.Util;

namespace MockOpenAI.Server;

/// <summary>
/// One emulated Azure OpenAI account on WireMock.Net: the inference routes, bearer-token auth (local auth disabled),
/// streamed chat paced chunk by chunk, and WireMock's admin API with its request journal at <c>/__admin</c>.
/// </summary>
internal sealed partial class MockAccountServer(
    IOptions<MockOpenAIOptions> options,
    BearerTokenValidator tokens,
    TimeProvider time,
    IConfiguration configuration,
    ILogger<MockAccountServer> logger) : IHostedService, IDisposable
{
    private const string DeploymentPattern = "^/openai/deployments/(?<deployment>[^/]+)/";

    /// <summary>How much longer than a chunk interval WireMock's writer waits for the next chunk before it ends the stream.</summary>
    private static readonly TimeSpan StreamReadSlack = TimeSpan.FromSeconds(30);

    private readonly MockOpenAIOptions _options = options.Value;
    private WireMockServer? _server;

    public string[] Urls => _server?.Urls ?? [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var urls = (configuration["urls"] ?? "http://localhost:5081").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        _server = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = urls,
            StartAdminInterface = true,
            MaxRequestLogCount = _options.JournalSize,
            AllowBodyForAllHttpMethods = false,
        });

        _server.Given(Request.Create().WithPath("/health").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("Healthy"));
        _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(DeploymentPattern + "chat/completions$")).UsingPost())
            .RespondWith(Response.Create().WithCallback(request => HandleAsync(request, "chat/completions")));
        _server.Given(Request.Create().WithPath(new WireMock.Matchers.RegexMatcher(DeploymentPattern + "embeddings$")).UsingPost())
            .RespondWith(Response.Create().WithCallback(request => HandleAsync(request, "embeddings")));

        Log.Started(logger, _options.Account, _options.Region, string.Join(", ", _server.Urls), _options.Deployments.Count);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.Stop();
        return Task.CompletedTask;
    }

    public void Dispose() => _server?.Dispose();

    private async Task<IResponseMessage> HandleAsync(IRequestMessage request, string operation)
    {
        if (Header(request, "api-key") is not null)
        {
            return Json(403, AzureErrors.KeyAuthDisabled);
        }

        if (!await tokens.IsValidAsync(Header(request, "Authorization")))
        {
            return Json(401, AzureErrors.Unauthorized);
        }

        if (request.Query is null || !request.Query.TryGetValue("api-version", out var versions) || string.IsNullOrEmpty(versions.FirstOrDefault()))
        {
            return Json(404, AzureErrors.ResourceNotFound);
        }

        var name = Uri.UnescapeDataString(request.Path.Split('/')[3]);
        if (!_options.Deployments.TryGetValue(name, out var deployment) || deployment.IsEmbeddings != (operation == "embeddings"))
        {
            return Json(404, AzureErrors.DeploymentNotFound);
        }

        try
        {
            using var body = JsonDocument.Parse(request.Body ?? string.Empty);
            if (operation == "embeddings")
            {
                return Json(200, Embeddings.Create(body.RootElement, deployment.ReportedModel, deployment.EmbeddingDimensions, deployment.Tokens));
            }

            var chat = ChatCompletions.Parse(body.RootElement, request.Body!, deployment.Tokens);
            var id = "chatcmpl-" + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())[..24];
            var created = time.GetUtcNow().ToUnixTimeSeconds();
            return chat.Stream
                ? Stream(ChatCompletions.Chunks(id, created, deployment.ReportedModel, chat))
                : Json(200, ChatCompletions.Completion(id, created, deployment.ReportedModel, chat));
        }
        catch (JsonException)
        {
            return Json(400, AzureErrors.BadRequest("The request body is not valid JSON.", null));
        }
        catch (BadRequestException ex)
        {
            return Json(400, AzureErrors.BadRequest(ex.Message, ex.Param));
        }
    }

    private ResponseMessage Json(int status, string json) => new()
    {
        StatusCode = status,
        Headers = CommonHeaders("application/json"),
        BodyData = new BodyData { BodyAsString = json, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
    };

    /// <summary>
    /// Server-sent events through WireMock's SSE queue: a producer paces the chunks with the injected clock while
    /// WireMock's writer drains the queue (it holds one thread per open stream; step 2 replaces this path).
    /// </summary>
    private ResponseMessage Stream(IEnumerable<string> chunks)
    {
        var queue = new SseQueue(_options.StreamChunkInterval + StreamReadSlack);
        _ = Task.Run(async () =>
        {
            try
            {
                var first = true;
                foreach (var chunk in chunks)
                {
                    if (!first)
                    {
                        await Task.Delay(_options.StreamChunkInterval, time);
                    }

                    first = false;
                    queue.Write(chunk);
                }
            }
            finally
            {
                queue.Close();
            }
        });

        return new ResponseMessage
        {
            StatusCode = 200,
            Headers = CommonHeaders("text/event-stream; charset=utf-8"),
            BodyData = new BodyData { DetectedBodyType = BodyType.SseString, SseStringQueue = queue },
        };
    }

    private Dictionary<string, WireMockList<string>> CommonHeaders(string contentType) => new()
    {
        ["Content-Type"] = new WireMockList<string>(contentType),
        ["apim-request-id"] = new WireMockList<string>(Guid.NewGuid().ToString()),
        ["x-ms-region"] = new WireMockList<string>(_options.Region),
        ["x-request-time"] = new WireMockList<string>(time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)),
    };

    private static string? Header(IRequestMessage request, string name)
    {
        if (request.Headers is null)
        {
            return null;
        }

        foreach (var (key, values) in request.Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return values.FirstOrDefault();
            }
        }

        return null;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Azure OpenAI account {Account} ({Region}) listening on {Urls} with {Deployments} deployment(s)")]
        public static partial void Started(ILogger logger, string account, string region, string urls, int deployments);
    }
}
