using MockContentSafety.Analysis;
using MockContentSafety.Server;
using MockHosting;

namespace MockContentSafety;

/// <summary>The mock account's wiring: its options, the token check, the blocklists and the WireMock server.</summary>
internal static class MockContentSafetyExtensions
{
    public static TBuilder AddMockContentSafety<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddOptions<MockContentSafetyOptions>().BindConfiguration(MockContentSafetyOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<LocalIdentityOptions>().BindConfiguration(LocalIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BearerTokenValidator>();

        // One store per process: each mock process is one account, and blocklists belong to their account.
        builder.Services.AddSingleton(_ => new BlocklistStore(Guid.NewGuid));
        builder.Services.AddHostedService<ContentSafetyServer>();
        return builder;
    }
}
