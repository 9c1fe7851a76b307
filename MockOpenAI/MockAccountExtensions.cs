using Microsoft.Extensions.Options;
using MockHosting;
using MockOpenAI.Server;

namespace MockOpenAI;

/// <summary>The mock account's wiring: its options, the token check, faults (scripted and account-wide), latency, metrics and the WireMock server.</summary>
internal static class MockAccountExtensions
{
    public static TBuilder AddMockAccount<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<MockOpenAIOptions>().BindConfiguration(MockOpenAIOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LocalIdentityOptions>().BindConfiguration(LocalIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BearerTokenValidator>();
        builder.Services.AddSingleton<StreamRelay>();
        builder.Services.AddSingleton<FaultInjector>();
        builder.Services.AddSingleton<AccountFaults>();
        builder.Services.AddSingleton<MockMetrics>();

        // One store per process: each mock process is one account, and stored responses belong to their account.
        builder.Services.AddSingleton<Storage.ResponseStore>();

        // Each consumer owns its random source and serializes its use of it (System.Random is not thread-safe).
        builder.Services.AddSingleton(_ => new LatencyModel(new Random()));
        builder.Services.AddSingleton(sp => new RandomFaults(sp.GetRequiredService<IOptions<MockOpenAIOptions>>(), new Random()));
        builder.Services.AddHostedService<MockAccountServer>();
        return builder;
    }
}
