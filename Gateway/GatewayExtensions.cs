using Gateway.Admin;
using Gateway.Apim;
using Gateway.Forwarding;
using Gateway.Identity;
using Gateway.Pipeline;
using Gateway.Policies;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;

namespace Gateway;

/// <summary>The gateway's wiring: options, the artefacts of <c>apim/</c>, the forwarder, the identity, the admin state and the endpoint.</summary>
internal static partial class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ApimOptions>().BindConfiguration(ApimOptions.SectionName).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ApimOptions>, Credentials.ConnectionOptionsValidator>();

        // Kestrel binds only its endpoints from configuration by itself: the limits (body, headers, data rates) need
        // binding here.
        builder.Services.Configure<KestrelServerOptions>(builder.Configuration.GetSection("Kestrel"));
        builder.Services.Configure<KestrelServerOptions>(kestrel => BindDataRates(kestrel.Limits, builder.Configuration.GetSection("Kestrel:Limits")));
        builder.Services.AddOptions<LocalIdentityOptions>().BindConfiguration(LocalIdentityOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<IdentityOptions>().BindConfiguration(IdentityOptions.SectionName).ValidateDataAnnotations()
            .Validate<IOptions<LocalIdentityOptions>>((identity, local) => identity.Resolve(local.Value) != IdentityProviderKind.Local || local.Value.HasSigningKey, LocalIdentityOptions.MissingKeyMessage)
            .ValidateOnStart();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(new RandomSource(new Random()));
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddResettableState<Caching.PolicyCache>();
        builder.Services.AddResettableState<Caching.SemanticCache>();
        builder.Services.AddResettableState<RateLimiting.RateLimitCounters>();
        builder.Services.AddResettableState<RateLimiting.QuotaCounters>();
        builder.Services.AddResettableState<Backends.CircuitBreakers>();

        // One secret per gateway instance: a restart, like another instance, does not know an earlier one's cookies.
        builder.Services.AddSingleton(services => new Backends.SessionCookies(
            System.Security.Cryptography.RandomNumberGenerator.GetBytes(Backends.SessionCookies.KeyBytes),
            services.GetRequiredService<ILogger<Backends.SessionCookies>>()));
        builder.Services.AddResettableState<RateLimiting.TokenLimits>();
        builder.Services.AddSingleton<RateLimiting.ConcurrencyLimits>();
        // Callers may send keys in the query string, which ASP.NET Core's request logs print whatever the level.
        Telemetry.RedactingLoggerFactory.Register(builder.Services);
        builder.Services.AddSingleton<Telemetry.PolicyMetrics>();
        builder.Services.AddSingleton<Telemetry.GenAIMetrics>();
        builder.Services.AddOptions<Telemetry.GenAIOptions>().BindConfiguration(Telemetry.GenAIOptions.SectionName)
            .PostConfigure<IConfiguration>((options, configuration) => options.CaptureMessageContent |= Telemetry.GenAIOptions.OptsIn(configuration[Telemetry.GenAIOptions.ContentVariable]));
        builder.Services.AddResettableState<Telemetry.TokenMetricTotals>();
        builder.Services.AddResettableState<Telemetry.BackendTraffic>();
        builder.Services.AddSingleton<Admin.Page.PageSessions>();
        builder.Services.AddSingleton<Admin.Page.LoginThrottle>();
        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics =>
        {
            foreach (var (name, exported) in Telemetry.PolicyMetrics.ExportNames)
            {
                metrics.AddView(name, exported);
            }
        });
        builder.Services.AddOptions<ForwardingOptions>().BindConfiguration(ForwardingOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpForwarder();
        builder.Services.AddSingleton<Yarp.ReverseProxy.Forwarder.IForwarderHttpClientFactory>(services =>
            new BackendClientFactory(BackendClientFactory.JoinsTraces(services.GetRequiredService<IConfiguration>())));
        builder.Services.AddSingleton<ArtifactsProvider>();
        builder.Services.AddSingleton<BackendForwarder>();
        builder.Services.AddSingleton<LocalSigningKey>();
        builder.Services.AddSingleton<LocalTokenIssuer>();
        builder.Services.AddSingleton<LocalEntraIssuer>();
        builder.Services.AddSingleton<ITokenCredentialFactory, DefaultAzureCredentialFactory>();
        builder.Services.AddSingleton<AzureTokenProvider>();
        builder.Services.AddSingleton(ManagedIdentityProvider);
        builder.Services.AddHttpClient(OpenIdConfigurationCache.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton<OpenIdConfigurationCache>();
        SendRequestClient.Register(builder.Services);
        builder.Services.AddSingleton<Credentials.CredentialManager>();
        builder.Services.AddSingleton<GatewayServices>();
        builder.Services.AddSingleton<GatewayHandler>();
        builder.Services.AddHealthChecks().AddCheck<PolicyHealthCheck>("apim-policies");
        return builder;
    }

    /// <summary>
    /// <c>MinRequestBodyDataRate</c> and <c>MinResponseDataRate</c> (<c>BytesPerSecond</c>, <c>GracePeriod</c>): the
    /// configuration binder leaves them at Kestrel's defaults, since it binds into the existing <see cref="MinDataRate"/>,
    /// whose properties cannot be set. A key left out keeps Kestrel's default for it.
    /// </summary>
    private static void BindDataRates(KestrelServerLimits limits, IConfigurationSection section)
    {
        limits.MinRequestBodyDataRate = DataRate(section.GetSection(nameof(KestrelServerLimits.MinRequestBodyDataRate)), limits.MinRequestBodyDataRate);
        limits.MinResponseDataRate = DataRate(section.GetSection(nameof(KestrelServerLimits.MinResponseDataRate)), limits.MinResponseDataRate);

        static MinDataRate? DataRate(IConfigurationSection rate, MinDataRate? current) => !rate.Exists() || current is null
            ? current
            : new MinDataRate(
                rate.GetValue(nameof(MinDataRate.BytesPerSecond), current.BytesPerSecond),
                rate.GetValue(nameof(MinDataRate.GracePeriod), current.GracePeriod));
    }

    /// <summary>The token provider <c>Identity:Provider</c> chooses (local unless no local signing key is configured).</summary>
    private static IManagedIdentityTokenProvider ManagedIdentityProvider(IServiceProvider services)
    {
        var kind = services.GetRequiredService<IOptions<IdentityOptions>>().Value.Resolve(services.GetRequiredService<IOptions<LocalIdentityOptions>>().Value);
        Log.IdentityProvider(services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Startup"), kind);
        return kind == IdentityProviderKind.Local ? services.GetRequiredService<LocalTokenIssuer>() : services.GetRequiredService<AzureTokenProvider>();
    }

    /// <summary>
    /// Loads and compiles every artefact before the first request. A problem stops the gateway with each error as
    /// <c>file(line,col): error CODE: message</c>.
    /// </summary>
    public static bool TryLoadArtifacts(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Startup");
        try
        {
            var artifacts = app.Services.GetRequiredService<ArtifactsProvider>().Current;
            foreach (var name in artifacts.Subscriptions.WithoutKeys)
            {
                Log.SubscriptionWithoutKeys(logger, name);
            }

            Log.Loaded(logger, artifacts.ApimPath, artifacts.Router.Routes.Count, artifacts.Backends.All.Count);
            return true;
        }
        catch (Exception ex) when (ex is PolicyLoadException or Apim.Model.ApimArtifactException)
        {
            Log.LoadFailed(logger, ex.Message);
            return false;
        }
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        var handler = app.Services.GetRequiredService<GatewayHandler>();
        app.Map("/{**path}", handler.HandleAsync);
        return app;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ArtifactsLoaded, LogLevel.Information, "Loaded API Management artefacts from {Path}: {Apis} API(s), {Backends} backend(s)")]
        public static partial void Loaded(ILogger logger, string path, int apis, int backends);

        [LoggerMessage(LogEvents.StartupFailed, LogLevel.Critical, "The gateway cannot start; fix these problems:\n{Problems}")]
        public static partial void LoadFailed(ILogger logger, string problems);

        [LoggerMessage(LogEvents.SubscriptionWithoutKeys, LogLevel.Warning, "Subscription '{Name}' has no keys configured (Apim:Subscriptions:{Name}:PrimaryKey), so no caller can use it")]
        public static partial void SubscriptionWithoutKeys(ILogger logger, string name);

        [LoggerMessage(LogEvents.IdentityProviderChosen, LogLevel.Information, "Managed-identity tokens come from the {Provider} provider (Identity:Provider)")]
        public static partial void IdentityProvider(ILogger logger, IdentityProviderKind provider);
    }
}
