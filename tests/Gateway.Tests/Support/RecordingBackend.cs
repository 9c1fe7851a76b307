using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>A real HTTP backend on a loopback port that records what it receives and answers with a fixed JSON body.</summary>
internal sealed class RecordingBackend : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RecordingBackend(WebApplication app)
    {
        _app = app;
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    /// <summary>Statuses to answer with, one per request, before the default 200; a 3xx redirects to <c>/redirected</c>.</summary>
    public ConcurrentQueue<int> Statuses { get; } = new();

    /// <summary>When set, writes the response instead of the fixed JSON body (after the request is recorded).</summary>
    public Func<HttpContext, Task>? Answer { get; set; }

    public string Url => _app.Urls.First();

    public static async Task<RecordingBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new RecordingBackend(app);
        app.Run(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            backend.Requests.Enqueue(new RecordedRequest(
                context.Request.Method,
                context.Request.Path + context.Request.QueryString,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                await reader.ReadToEndAsync(),
                context.Request.Protocol));
            context.Response.Headers["x-backend"] = "recording";
            if (backend.Answer is { } answer)
            {
                await answer(context);
                return;
            }

            if (backend.Statuses.TryDequeue(out var status))
            {
                context.Response.StatusCode = status;
                if (status is >= 300 and < 400)
                {
                    context.Response.Headers.Location = backend.Url + "/redirected" + context.Request.QueryString;
                }
            }

            await context.Response.WriteAsJsonAsync(new { ok = true });
        });
        await app.StartAsync();
        return backend;
    }

    /// <summary>The first request received at <paramref name="pathAndQuery"/>, waiting (at most 30 s) for it to arrive.</summary>
    public async Task<RecordedRequest> ArrivalAsync(string pathAndQuery)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (Requests.FirstOrDefault(r => r.PathAndQuery == pathAndQuery) is { } found)
            {
                return found;
            }

            Assert.True(waited.Elapsed < TestTimeouts.Request, $"no request reached {pathAndQuery}");
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

internal sealed record RecordedRequest(string Method, string PathAndQuery, IReadOnlyDictionary<string, string> Headers, string Body, string Protocol = "HTTP/1.1");
