using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Shared service wiring: OpenTelemetry (exported over OTLP when Aspire or the user sets an endpoint),
/// health checks and service discovery. Every service of the solution calls <see cref="AddServiceDefaults"/>.
/// </summary>
public static class Extensions
{
    /// <summary>The readiness endpoint every service maps; it runs every registered check.</summary>
    public const string HealthEndpointPath = "/health";

    /// <summary>The liveness endpoint every service maps; it runs the checks tagged <c>live</c>.</summary>
    public const string AliveEndpointPath = "/alive";

    /// <summary>
    /// Whether this service exports its telemetry: an OTLP endpoint is set (the AppHost sets it to the dashboard). Without
    /// one, the services record no traces, metrics or logs for OpenTelemetry.
    /// </summary>
    public static bool ExportsTelemetry(Microsoft.Extensions.Configuration.IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>Adds OpenTelemetry, default health checks and service discovery.</summary>
    /// <param name="builder">The application builder.</param>
    /// <param name="extraMeters">Meter names of the service's own instruments.</param>
    /// <param name="extraSources">ActivitySource names of the service's own spans.</param>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder, string[]? extraMeters = null, string[]? extraSources = null)
        where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry(extraMeters ?? [], extraSources ?? []);
        builder.AddDefaultHealthChecks();
        builder.Services.AddServiceDiscovery();
        return builder;
    }

    private static void ConfigureOpenTelemetry<TBuilder>(this TBuilder builder, string[] extraMeters, string[] extraSources)
        where TBuilder : IHostApplicationBuilder
    {
        // Traces, metrics and OpenTelemetry logs are recorded only when something exports them (the AppHost sets the
        // OTLP endpoint): without an exporter every span, measurement and log record would be made for nobody, on every
        // request, and an instrument nothing listens to reports itself disabled, so the services skip their recording.
        // Tests that read spans or metrics in process listen with their own ActivityListener or MeterListener.
        if (!ExportsTelemetry(builder.Configuration))
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(extraMeters));
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });
        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(extraSources)
                .AddAspNetCoreInstrumentation(options =>
                    options.Filter = context => !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AliveEndpointPath))
                .AddHttpClientInstrumentation())
            .UseOtlpExporter();
    }

    private static void AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
    }

    /// <summary>Maps <c>/health</c> (every check) and <c>/alive</c> (liveness only).</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AliveEndpointPath, new HealthCheckOptions { Predicate = r => r.Tags.Contains("live") });
        return app;
    }
}
