using MockContentSafety;

var builder = Host.CreateApplicationBuilder(args);

// WireMock hosts its own Kestrel server; it listens where ASP.NET Core would (ASPNETCORE_URLS or --urls).
builder.Configuration.AddEnvironmentVariables("ASPNETCORE_");
builder.Configuration.AddCommandLine(args);
builder.AddServiceDefaults();
builder.AddMockContentSafety();

await builder.Build().RunAsync();
