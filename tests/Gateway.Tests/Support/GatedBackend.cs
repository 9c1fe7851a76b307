using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Support;

/// <summary>
/// A real HTTP backend on a loopback port that holds every request until the test opens the gate, so a test knows how
/// many requests are in flight. It announces each arrival, then answers 200 with <c>{"ok":true}</c> once opened.
/// </summary>
internal sealed class GatedBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Channel<string> _arrivals = Channel.CreateUnbounded<string>();

    private GatedBackend(WebApplication app)
    {
        _app = app;
    }

    public string Url => _app.Urls.First();

    public static async Task<GatedBackend> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var backend = new GatedBackend(app);
        app.Run(async context =>
        {
            backend._arrivals.Writer.TryWrite(context.Request.Headers["x-team"].ToString());
            try
            {
                await backend._gate.Task.WaitAsync(TestTimeouts.Request, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                // The gateway gave up on this request (its client left).
                return;
            }

            await context.Response.WriteAsJsonAsync(new { ok = true });
        });
        await app.StartAsync();
        return backend;
    }

    /// <summary>Waits for the next request to reach the backend; returns its <c>x-team</c> header.</summary>
    public async Task<string> NextArrivalAsync() => await _arrivals.Reader.ReadAsync().AsTask().WaitAsync(TestTimeouts.Request);

    /// <summary>Lets every held request, and every later one, through.</summary>
    public void Open() => _gate.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        Open();
        await _app.DisposeAsync();
    }
}
