namespace Gateway.Bench.SideBySide.Backend;

/// <summary>
/// The backend every target sits in front of: Kestrel answering <c>POST .../chat/completions</c> at once with
/// <see cref="CannedCompletion"/> (server-sent events when the body says <c>"stream": true</c>), 404 otherwise. No
/// auth, no latency, no logging below warnings: whatever time a target adds is the target's. With
/// <c>--StreamEventDelayMs=N</c> (the memory mode) it waits N ms before each streamed event, so that streams stay open.
/// </summary>
internal static class TrivialBackend
{
    public const string Role = "backend";

    /// <summary>The configuration key of the pause before each streamed event, in milliseconds (0 by default).</summary>
    public const string StreamEventDelayKey = "StreamEventDelayMs";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        var eventDelay = TimeSpan.FromMilliseconds(app.Configuration.GetValue(StreamEventDelayKey, 0));
        app.MapPost("/{**path}", (HttpContext context) => AnswerAsync(context, eventDelay));
        await app.RunAsync();
        return 0;
    }

    private static async Task AnswerAsync(HttpContext context, TimeSpan eventDelay)
    {
        if (context.Request.Path.Value?.EndsWith("/chat/completions", StringComparison.Ordinal) != true)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var aborted = context.RequestAborted;
        var response = context.Response;
        if (!await CannedCompletion.WantsStreamAsync(context.Request.Body, aborted))
        {
            response.ContentType = "application/json";
            response.ContentLength = CannedCompletion.Json.Length;
            await response.Body.WriteAsync(CannedCompletion.Json, aborted);
            return;
        }

        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        foreach (var item in CannedCompletion.Events)
        {
            if (eventDelay > TimeSpan.Zero)
            {
                await Task.Delay(eventDelay, aborted);
            }

            await response.Body.WriteAsync(item, aborted);
            await response.Body.FlushAsync(aborted);
        }
    }
}
