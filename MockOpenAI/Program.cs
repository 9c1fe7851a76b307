using Microsoft.Extensions.Options;
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
// One store per process: each mock process is one account, and stored responses belong to their account.
builder.Services.AddSingleton<MockOpenAI.Storage.ResponseStore>();
// Each consumer owns its random source and serializes its use of it (System.Random is not thread-safe).
builder.Services.AddSingleton(_ => new LatencyModel(new Random()));
builder.Services.AddSingleton(sp => new RandomFaults(sp.GetRequiredService<IOptions<MockOpenAIOptions>>(), new Random()));
builder.Services.AddHostedService<MockAccountServer>();

await builder.Build().RunAsync();
