using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// Everything one service emits, kept in memory: every log record at every level (a fake logger provider beside the
/// service's own, and OpenTelemetry's log exporter), and every span and metric point its OpenTelemetry providers
/// export. Span and metric listeners are process-wide, so a capture also holds what other services of the process
/// emit on the same sources.
/// </summary>
internal sealed class TelemetryCapture(string service)
{
    /// <summary>The logger provider alias whose output would only repeat the fake provider's on the test's console.</summary>
    private const string ConsoleProvider = "Console";

    private FakeLogCollector? _logs;

    public string Service { get; } = service;

    public List<Activity> Spans { get; } = [];

    public List<LogRecord> OpenTelemetryLogs { get; } = [];

    public List<MetricSnapshot> Metrics { get; } = [];

    public IReadOnlyList<FakeLogRecord> Logs => _logs?.GetSnapshot() ?? throw new InvalidOperationException("Attach the capture to the service's provider first.");

    /// <summary>
    /// Fake logging, every category at Trace whatever the service's configuration says, and in-memory exporters added to
    /// the OpenTelemetry providers the service configures (their exporters run on the thread that ends a span, one at a
    /// time). No tracer or logger provider is made here: the service's own wiring must turn them on.
    /// </summary>
    public void AddTo(IServiceCollection services)
    {
        services.AddFakeLogging();
        services.PostConfigure<LoggerFilterOptions>(options =>
        {
            options.Rules.Clear();
            options.MinLevel = LogLevel.Trace;
            options.Rules.Add(new LoggerFilterRule(ConsoleProvider, null, LogLevel.None, null));
        });
        services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(Spans));
        services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddInMemoryExporter(Metrics));
        services.Configure<OpenTelemetryLoggerOptions>(logging => logging.AddInMemoryExporter(OpenTelemetryLogs));
    }

    /// <summary>Reads the fake log records from the service's provider from now on (they outlive it).</summary>
    public void Attach(IServiceProvider services) => _logs = services.GetFakeLogCollector();
}
