using Gateway;
using Gateway.Pipeline;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults(extraSources: [GatewayTelemetry.SourceName]);
builder.AddGateway();

var app = builder.Build();
if (!app.TryLoadArtifacts())
{
    return 1;
}

app.MapDefaultEndpoints();
app.MapGateway();
await app.RunAsync();
return 0;
