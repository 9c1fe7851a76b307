using TrafficGenerator;
using TrafficGenerator.Reporting;

// The OpenAI client's OpenTelemetry instrumentation (spans and gen_ai metrics, sources and meters named OpenAI.*) is
// experimental: it records nothing unless this switch is on before the first client is made.
AppContext.SetSwitch("OpenAI.Experimental.EnableOpenTelemetry", true);

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults(extraMeters: [TrafficMetrics.MeterName, "OpenAI.*"], extraSources: ["OpenAI.*"]);
builder.AddTrafficGenerator();

await builder.Build().RunAsync();
