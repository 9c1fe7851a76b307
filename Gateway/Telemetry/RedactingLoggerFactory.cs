using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Gateway.Telemetry;

/// <summary>
/// The gateway's logger factory: every logger it makes is a <see cref="RedactingLogger"/>, so no provider (the
/// console, OpenTelemetry's exporter, a test's) gets a query value a caller sent, whatever level a category logs at.
/// ASP.NET Core's request logs (<c>Microsoft.AspNetCore.Hosting.Diagnostics</c>, "Request starting ...") print the
/// query string before any middleware runs, so the redaction lives where every logger is made.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    /// <summary>Replaces the logger factory <c>AddLogging</c> registered with one that wraps it.</summary>
    public static void Register(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<ILoggerFactory>(sp => new RedactingLoggerFactory(new LoggerFactory(
            sp.GetServices<ILoggerProvider>(),
            sp.GetRequiredService<IOptionsMonitor<LoggerFilterOptions>>(),
            sp.GetService<IOptions<LoggerFactoryOptions>>(),
            sp.GetService<IExternalScopeProvider>()))));

    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose() => inner.Dispose();
}
