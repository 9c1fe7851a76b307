namespace Gateway.Bench.SideBySide.Backend;

/// <summary>
/// The backend every target sits in front of: Kestrel answering <c>POST .../chat/completions</c> at once with
/// <see cref="CannedCompletion"/> (server-sent events when the body says <c>"stream": true</c>), 404 otherwise. No
/// auth, no latency, no logging below warnings: whatever time a target adds is the target's.
/// </summary>
internal static class TrivialBackend
{
    public const string Role = "backend";

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        var app = builder.Build();
        app.MapPost("/{**path}", AnswerAsync);
        await app.RunAsync();
        return 0;
    }

    private static async Task AnswerAsync(HttpContext context)
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
            await response.Body.WriteAsync(item, aborted);
            await response.Body.FlushAsync(aborted);
        }
    }
}
