using Microsoft.Extensions.Options;
using TrafficGenerator.Calls;
using TrafficGenerator.Reporting;

namespace TrafficGenerator;

/// <summary>The generator's wiring: its options (validated at start), the clients, the counters and the worker.</summary>
internal static class TrafficGeneratorExtensions
{
    public static TBuilder AddTrafficGenerator<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<TrafficOptions>().BindConfiguration(TrafficOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new GatewayCalls(sp.GetRequiredService<IOptions<TrafficOptions>>().Value));
        builder.Services.AddSingleton<TrafficStats>();
        builder.Services.AddSingleton<TrafficMetrics>();
        builder.Services.AddHostedService<TrafficWorker>();
        return builder;
    }
}
