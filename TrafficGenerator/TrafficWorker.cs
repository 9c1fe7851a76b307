using Microsoft.Extensions.Options;
using TrafficGenerator.Calls;
using TrafficGenerator.Reporting;
using TrafficGenerator.Scheduling;

namespace TrafficGenerator;

/// <summary>
/// Sends requests when the <see cref="TrafficSchedule"/> says, as the <see cref="TrafficPlan"/> says, without waiting for
/// answers; counts every outcome and logs a summary every <see cref="TrafficOptions.SummaryInterval"/>. A failed call is
/// one log line and a count, never the end of the generator.
/// </summary>
internal sealed partial class TrafficWorker(
    GatewayCalls calls,
    TrafficStats stats,
    TrafficMetrics metrics,
    IOptions<TrafficOptions> options,
    TimeProvider time,
    ILogger<TrafficWorker> logger) : BackgroundService
{
    /// <summary>How far behind the schedule the loop may fall (a paused process) before it carries on from now instead.</summary>
    private static readonly TimeSpan MaxLag = TimeSpan.FromSeconds(1);

    private int _inFlight;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        var schedule = new TrafficSchedule(settings);
        var plan = new TrafficPlan(settings.Subscriptions.Keys, settings.Mix);
        Log.Started(logger, settings.Mode, settings.RequestsPerSecond, string.Join(", ", settings.Subscriptions.Keys.Order(StringComparer.Ordinal)), settings.ChatDeployment, settings.EmbeddingsDeployment, settings.MaxRetries);

        await using var summary = time.CreateTimer(_ => LogSummary(), null, settings.SummaryInterval, settings.SummaryInterval);
        var start = time.GetTimestamp();
        var due = TimeSpan.Zero;
        var sequence = 0;
        try
        {
            while (true)
            {
                var wait = due - time.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, stoppingToken);
                }

                var (subscription, operation) = plan.Next();
                if (Volatile.Read(ref _inFlight) >= settings.MaxConcurrency)
                {
                    Record(subscription, operation, TrafficOutcome.Skipped, TimeSpan.Zero);
                }
                else
                {
                    Interlocked.Increment(ref _inFlight);
                    var number = sequence++;
                    _ = Task.Run(() => CallAsync(subscription, operation, number, stoppingToken), CancellationToken.None);
                }

                due = schedule.NextAfter(due);
                var now = time.GetElapsedTime(start);
                if (now - due > MaxLag)
                {
                    due = now;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the calls in flight end with the same token.
        }

        LogSummary();
    }

    private async Task CallAsync(string subscription, TrafficOperation operation, int sequence, CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        try
        {
            await calls.CallAsync(subscription, operation, sequence, stoppingToken);
            Record(subscription, operation, TrafficOutcome.Ok, time.GetElapsedTime(started));
        }
#pragma warning disable CA1031 // Whatever a call throws is counted and logged: the generator must outlive any answer.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            if (stoppingToken.IsCancellationRequested && exception is OperationCanceledException)
            {
                return;
            }

            var elapsed = time.GetElapsedTime(started);
            var (outcome, status) = GatewayCalls.Classify(exception, stoppingToken.IsCancellationRequested);
            Record(subscription, operation, outcome, elapsed);

            // One line, no stack trace and no message body: the exception's type and the status say enough, and keys never appear.
            Log.CallFailed(logger, subscription, operation, outcome, status, elapsed.TotalMilliseconds, exception.GetType().Name);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private void Record(string subscription, TrafficOperation operation, TrafficOutcome outcome, TimeSpan elapsed)
    {
        stats.Record(subscription, operation, outcome, elapsed);
        metrics.Record(subscription, operation, outcome, elapsed);
    }

    private void LogSummary()
    {
        foreach (var line in stats.TakeSummary())
        {
            Log.Summary(logger, line.Subscription, line.Operation, line.Ok, line.Throttled, line.Errors, line.Timeouts, line.Skipped, line.MedianMilliseconds is { } median ? $"{median:F0} ms" : "-");
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Traffic started: {Mode} at {RequestsPerSecond} requests/s from {Subscriptions}, chat deployment {ChatDeployment}, embeddings deployment {EmbeddingsDeployment}, client retries {MaxRetries}")]
        public static partial void Started(ILogger logger, TrafficMode mode, double requestsPerSecond, string subscriptions, string chatDeployment, string embeddingsDeployment, int maxRetries);

        [LoggerMessage(2, LogLevel.Warning, "{Subscription} {Operation}: {Outcome} (status {Status}) after {ElapsedMilliseconds:F0} ms, {Exception}")]
        public static partial void CallFailed(ILogger logger, string subscription, TrafficOperation operation, TrafficOutcome outcome, int status, double elapsedMilliseconds, string exception);

        [LoggerMessage(3, LogLevel.Information, "{Subscription} {Operation}: {Ok} ok, {Throttled} 429, {Errors} errors, {Timeouts} timeouts, {Skipped} skipped since start; p50 {Median} since the last summary")]
        public static partial void Summary(ILogger logger, string subscription, TrafficOperation operation, long ok, long throttled, long errors, long timeouts, long skipped, string median);
    }
}
