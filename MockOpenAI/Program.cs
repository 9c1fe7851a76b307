using MockOpenAI;
using MockOpenAI.Identity;
using MockOpenAI.Server;

var builder = Host.CreateApplicationBuilder(args);

// WireMock hosts its own Kestrel server; it listens where ASP.NET Core would (ASPNETCORE_URLS or --urls).
builder.Configuration.AddEnvironmentVariables("ASPNETCORE_");
builder.Configuration.AddCommandLine(args);
builder.AddServiceDefaults(extraMeters: [MockMetrics.MeterName]);
builder.Services.AddOptions<MockOpenAIOptions>().BindConfiguration(MockOpenAIOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddOptions<LocalIdentityOptions>().BindConfiguration(LocalIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton<BearerTokenValidator>();
builder.Services.AddSingleton<StreamRelay>();
builder.Services.AddSingleton<FaultInjector>();
builder.Services.AddSingleton<MockMetrics>();
builder.Services.AddSingleton(new Random());
builder.Services.AddSingleton<LatencyModel>();
builder.Services.AddSingleton<RandomFaults>();
builder.Services.AddHostedService<MockAccountServer>();

await builder.Build().RunAsync();
