using System.Globalization;

namespace MockOpenAI.Server;

/// <summary>
/// Faults beyond a status code, scripted like any other through WireMock's admin API: a mapping whose response
/// carries the header <c>x-mock-fault</c> makes the middleware, placed before WireMock's, misbehave after WireMock
/// has matched and journaled the request:
/// <list type="bullet">
/// <item><c>reset</c>: the connection is dropped before any byte of the response;</item>
/// <item><c>abort-after=N</c>: a streamed chat completion starts (status 200, <c>text/event-stream</c>) and the
/// connection is dropped after its first N events, before <c>[DONE]</c>;</item>
/// <item><c>hang</c>: nothing is ever sent; the request ends only when the client gives up;</item>
/// <item><c>delay=MS</c>: a slow first byte: nothing is sent for MS milliseconds of the account's clock, then the whole
/// streamed chat completion (status 200, <c>text/event-stream</c>, to <c>[DONE]</c>).</item>
/// </list>
/// A client that gives up while a fault holds its request is counted in <c>mockopenai.requests.cancelled</c>. Plain
/// status faults (429 with Retry-After, 500, 503 for the next N requests) need no header: a mapping with WireMock's
/// scenario fields does them (README, "Script faults"). The account-wide hang of <see cref="AccountFaults"/> comes the
/// same way, as <c>account-hang=ID</c>: the request is held until that hang ends, then its connection drops.
/// </summary>
internal sealed class FaultInjector(TimeProvider time, MockMetrics metrics, AccountFaults accountFaults)
{
    public const string FaultHeader = "x-mock-fault";

    /// <summary>The value that holds a request for the account-wide hang whose id follows.</summary>
    public const string AccountHang = "account-hang=";

    private const string AbortAfter = "abort-after=";
    private const string Delay = "delay=";

    /// <summary>
    /// How long the events of an aborted stream get to reach the client before the connection drops: a reset makes
    /// the client's network stack throw away what it has received but not yet read. This is wall-clock time on
    /// purpose: it is about the network, not about the emulated account, so the injected clock does not govern it. A full
    /// second, because 200 ms was once too short on a 2-core machine running the whole test suite (the gateway in front
    /// had not read the response's head when the reset came, and answered 503 instead of a broken 200).
    /// </summary>
    public static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    /// <summary>Adds the middleware; <paramref name="streamFor"/> gives the events of a streamed answer for a request path.</summary>
    public void Install(IApplicationBuilder app, Func<PathString, IReadOnlyList<string>?> streamFor) => app.Use(async (context, next) =>
    {
        await next(context);
        if (!context.Response.Headers.TryGetValue(FaultHeader, out var value))
        {
            return;
        }

        var fault = value.ToString().Trim();
        if (context.Response.HasStarted)
        {
            // The mapping also had a body, so WireMock has sent it: only dropping the connection is still possible.
            context.Abort();
            return;
        }

        context.Response.Headers.Remove(FaultHeader);
        if (fault == "reset")
        {
            context.Abort();
        }
        else if (fault == "hang")
        {
            // The client gives up, as it must.
            await WaitAsync(Timeout.InfiniteTimeSpan, context.RequestAborted);
        }
        else if (fault.StartsWith(AccountHang, StringComparison.Ordinal)
            && long.TryParse(fault[AccountHang.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var hang))
        {
            // Held until the hang ends; then the request was never answered, as far as the client can tell.
            if (await accountFaults.HoldAsync(hang, context.RequestAborted))
            {
                context.Abort();
            }
            else
            {
                metrics.Cancelled(MockMetrics.Waiting);
            }
        }
        else if (fault.StartsWith(AbortAfter, StringComparison.Ordinal)
            && int.TryParse(fault[AbortAfter.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && streamFor(context.Request.Path) is { } events)
        {
            await AbortStreamAsync(context, events, count);
        }
        else if (fault.StartsWith(Delay, StringComparison.Ordinal)
            && int.TryParse(fault[Delay.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out var milliseconds)
            && streamFor(context.Request.Path) is { } answer)
        {
            if (await WaitAsync(TimeSpan.FromMilliseconds(milliseconds), context.RequestAborted))
            {
                await StreamAsync(context, answer);
            }
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "text/plain";
            await context.Response.WriteAsync($"x-mock-fault '{fault}' is not a fault this mock knows (reset, hang, abort-after=N or delay=MS on a chat deployment).", context.RequestAborted);
        }
    });

    /// <summary>Waits on the account's clock; false (counted as a cancellation) when the client gives up first.</summary>
    private async Task<bool> WaitAsync(TimeSpan wait, CancellationToken aborted)
    {
        try
        {
            await Task.Delay(wait, time, aborted);
            return true;
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            metrics.Cancelled(MockMetrics.Waiting);
            return false;
        }
    }

    private async Task StreamAsync(HttpContext context, IReadOnlyList<string> events)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        try
        {
            foreach (var text in events)
            {
                await context.Response.WriteAsync(text, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            metrics.Cancelled(MockMetrics.Streaming);
        }
    }

    private static async Task AbortStreamAsync(HttpContext context, IReadOnlyList<string> events, int count)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "text/event-stream; charset=utf-8";
        foreach (var text in events.Take(Math.Min(count, events.Count - 1)))
        {
            await context.Response.WriteAsync(text, context.RequestAborted);
            await context.Response.Body.FlushAsync(context.RequestAborted);
        }

        await Task.Delay(AbortGrace, TimeProvider.System, context.RequestAborted);
        context.Abort();
    }
}
