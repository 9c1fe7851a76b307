using Gateway;
using Gateway.Admin;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Validation;

if (args.Length > 0 && args[0] == ValidateCommand.Name)
{
    var configuration = new ConfigurationBuilder()
        .SetBasePath(AppContext.BaseDirectory)
        .AddJsonFile("appsettings.json", optional: true)
        .AddEnvironmentVariables()
        .Build();
    return ValidateCommand.Run(args[1..], configuration, Console.Out);
}

if (args is [Gateway.Expressions.CompilerProcess.Command])
{
    return Gateway.Expressions.CompilerProcess.Serve(Console.OpenStandardInput(), Console.OpenStandardOutput());
}

// Run as itself (not under a test host), the gateway compiles policy expressions in a child process and never loads
// Roslyn (Expressions/CompilerProcess.cs).
using var compilerProcess = Gateway.Expressions.CompilerProcess.ForThisGateway();
if (compilerProcess is not null)
{
    Gateway.Expressions.ExpressionCompiler.UseCompilerProcess(compilerProcess);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(
    extraMeters: [Gateway.Telemetry.PolicyMetrics.MeterName, Gateway.Telemetry.GenAIMetrics.MeterName],
    extraSources: [GatewayTelemetry.SourceName, Gateway.Telemetry.GenAITelemetry.SourceName]);
builder.AddGateway();

var app = builder.Build();
if (!app.TryLoadArtifacts())
{
    // Disposing the app flushes the console logger's queue: without it, the process can end before the problems are printed.
    await app.DisposeAsync();
    return 1;
}

app.MapDefaultEndpoints();
app.MapAdminApi();
app.MapLocalEntra();
app.MapGateway();
await app.RunAsync();
return 0;
