using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Gateway.Apim.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace AppHost.Tests;

/// <summary>
/// The whole AppHost (gateway and one mock per account of apim/topology.json) started once for a test class, with
/// subscription keys and the identity key pair chosen by the test so that it can check what the mocks received. Given a
/// deployed gateway through configuration (<see cref="DeployedTarget"/>), it starts nothing and the scenarios run against
/// that gateway instead; what needs the mocks is skipped there.
/// </summary>
public class LoadBalancedAppFixture : IAsyncLifetime
{
    /// <summary>The reason given for every assertion a deployed gateway cannot support.</summary>
    public const string NeedsTheMocks = "needs the local mocks' request journal (or the AppHost's keys), which a deployed gateway has not";

    public const string ChatAppKey = "it-chat-app-primary-key-00000000001";
    public const string ChatAppSecondaryKey = "it-chat-app-secondary-key-000000002";
    public const string AdminKey = "it-gateway-admin-key-0000000000005";
    public const string SearchIndexerKey = "it-search-indexer-primary-key-000003";
    public const string MockAdminPassword = "it-mock-admin-password-00000000006";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    /// <summary>The pause between two first calls to a deployed gateway whose accounts still refuse its identity.</summary>
    public static readonly TimeSpan FirstCallInterval = TimeSpan.FromSeconds(15);

    private readonly RSA _signingKey = RSA.Create(2048);
    private DistributedApplication? _app;

    public LoadBalancedAppFixture()
        : this(new ConfigurationBuilder().AddEnvironmentVariables().Build())
    {
    }

    /// <param name="configuration">Where <c>Target:GatewayUrl</c> and the keys of a deployed gateway are looked for.</param>
    protected LoadBalancedAppFixture(IConfiguration configuration)
    {
        Deployed = DeployedTarget.From(configuration);
    }

    /// <summary>The deployed gateway the scenarios run against, or null for the local app.</summary>
    public DeployedTarget? Deployed { get; }

    /// <summary>Whether the scenarios run against a deployed gateway (no mocks, no AppHost).</summary>
    public bool IsDeployed => Deployed is not null;

    /// <summary>The first subscription's key: the deployed one's, or the one the local app was started with.</summary>
    public string Key => Deployed?.SubscriptionKey ?? ChatAppKey;

    /// <summary>A second subscription's key, for scenarios that compare two; null when a deployed target gives none.</summary>
    public string? SecondKey => IsDeployed ? Deployed!.SecondSubscriptionKey : SearchIndexerKey;

    public Uri GatewayUrl { get; private set; } = null!;

    public IReadOnlyDictionary<string, Uri> MockUrls { get; private set; } = null!;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { Timeout = TimeSpan.FromSeconds(60) };

    /// <summary>A client of the mocks' WireMock admin API (mappings, journals), with the credentials the app was started with.</summary>
    public HttpClient MockAdmin { get; } = new(new SocketsHttpHandler { ActivityHeadersPropagator = null })
    {
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { Authorization = new("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("admin:" + MockAdminPassword))) },
    };

    public RSA SigningKey => _signingKey;

    /// <summary>The running AppHost (local runs only): its resources can be stopped and started like the dashboard's buttons do.</summary>
    public DistributedApplication App => _app ?? throw new InvalidOperationException("A deployed target runs no AppHost.");

    /// <summary>The apim/ folder the app runs; a derived fixture may run another.</summary>
    protected virtual string ApimPathUnderTest => ApimPath;

    /// <summary>More AppHost settings (<c>--Name=value</c>) a derived fixture needs.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    /// <summary>
    /// Whether the app runs the Aspire dashboard (<see cref="DistributedApplicationTestingBuilderOptions.EnableDashboard"/>):
    /// off, as Aspire testing has it, except for a fixture whose tests open the dashboard.
    /// </summary>
    protected virtual bool RunsDashboard => false;

    public async Task InitializeAsync()
    {
        if (Deployed is { } target)
        {
            GatewayUrl = target.GatewayUrl;
            MockUrls = new Dictionary<string, Uri>();

            // Right after azd up the accounts refuse the gateway's identity until its role propagates: wait for that here,
            // once, rather than let the first scenarios fail with 401 or 403.
            using var waiting = new CancellationTokenSource(target.FirstCallTimeout + Timeout);
            await new DeployedFirstCall(Http, TimeProvider.System, target.FirstCallTimeout, FirstCallInterval).WaitAsync(target.GatewayUrl, target.SubscriptionKey, waiting.Token);
            return;
        }

        using var cancellation = new CancellationTokenSource(Timeout);
        // Command-line values outrank the AppHost's user secrets, where a developer's own generated keys live.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            new DistributedApplicationTestingBuilderOptions { EnableDashboard = RunsDashboard },
            [
                "--Apim:Path=" + ApimPathUnderTest,

                // Streams paced 50 ms a token from the first token on; no jitter, so timing assertions have wide margins.
                "--MockOpenAI:Latency:TimeToFirstToken=00:00:00",
                "--MockOpenAI:Latency:PerOutputToken=00:00:00.050",
                "--MockOpenAI:Latency:PerRequest=00:00:00",
                "--MockOpenAI:Latency:Jitter=0",
                "--LocalIdentity:SigningKey=" + _signingKey.ExportPkcs8PrivateKeyPem(),
                "--Parameters:chat-app-primary-key=" + ChatAppKey,
                "--Parameters:chat-app-secondary-key=" + ChatAppSecondaryKey,
                "--Parameters:search-indexer-primary-key=" + SearchIndexerKey,
                "--Parameters:search-indexer-secondary-key=it-search-indexer-secondary-key-0004",
                "--Parameters:gateway-admin-key=" + AdminKey,
                "--Parameters:mock-admin-password=" + MockAdminPassword,
                .. ExtraArguments,
            ],
            cancellation.Token);
        if (!RunsDashboard)
        {
            NoOtlpRetry(builder);
        }

        _app = await builder.BuildAsync(cancellation.Token);
        await _app.StartAsync(cancellation.Token);
        await _app.ResourceNotifications.WaitForResourceHealthyAsync("gateway", cancellation.Token);

        var topology = Topology.Load(ApimPathUnderTest);
        var mocks = new Dictionary<string, Uri>();
        foreach (var account in topology.Accounts)
        {
            await _app.ResourceNotifications.WaitForResourceHealthyAsync(account.Name, cancellation.Token);
            mocks[account.Name] = _app.GetEndpoint(account.Name, "http");
        }

        MockUrls = mocks;
        GatewayUrl = _app.GetEndpoint("gateway", "http");
    }

    /// <summary>
    /// Without the dashboard nothing listens on the OTLP endpoint the AppHost hands every service, and with the in-memory
    /// retry Aspire turns on (<c>OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY=in_memory</c>) a service then takes about 9 s to exit
    /// while it retries its last exports: long enough that a stop command gives up (Aspire checks for about 15 s) on a
    /// loaded machine, and every app's shutdown waits for it. Without the retry a failed export is dropped at once; the
    /// services still record and export telemetry as they do under <c>dotnet run</c>.
    /// </summary>
    private static void NoOtlpRetry(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var resource in builder.Resources.OfType<IResourceWithEnvironment>().ToArray())
        {
            builder.CreateResourceBuilder(resource).WithEnvironment(context => context.EnvironmentVariables.Remove("OTEL_DOTNET_EXPERIMENTAL_OTLP_RETRY"));
        }
    }

    /// <summary>The checkout the tests were built from.</summary>
    public static string RepoRoot { get; } = typeof(LoadBalancedAppFixture).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>The apim/ folder under test: configuration <c>Apim:Path</c> (e.g. the environment variable <c>Apim__Path</c>), else this checkout's.</summary>
    public static string ApimPath { get; } = Path.GetFullPath(
        new ConfigurationBuilder().AddEnvironmentVariables().Build()["Apim:Path"] ?? Path.Combine(RepoRoot, "apim"));

    /// <summary>Copies every file under <paramref name="from"/> to the same place under <paramref name="to"/>, replacing what is there.</summary>
    protected static void CopyFolder(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }
    }

    /// <summary>
    /// Starts a stopped mock account as the dashboard's button does, checks it comes back at the address the gateway
    /// knows, and returns once it answers <c>/health</c> there (else waits until <paramref name="cancellation"/>). Not
    /// Aspire's wait for a healthy resource: the start command returns while the resource still reads Finished, which
    /// that wait (told by the testing builder to stop on an unavailable resource) takes for a failed start; and a
    /// restarted resource may carry its last run's health until its first check.
    /// </summary>
    public async Task StartMockAsync(string account, CancellationToken cancellation)
    {
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var started = await commands.ExecuteCommandAsync(account, KnownResourceCommands.StartCommand, cancellation);
        Assert.True(started.Success, started.Message);
        await App.ResourceNotifications.WaitForResourceAsync(account, KnownResourceStates.Running, cancellation);
        Assert.Equal(MockUrls[account], App.GetEndpoint(account, "http"));
        var health = new Uri(MockUrls[account], "/health");
        while (true)
        {
            try
            {
                using var response = await Http.GetAsync(health, cancellation);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !cancellation.IsCancellationRequested))
            {
                // Not listening yet, or not answering within the client's timeout.
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), cancellation);
        }
    }

    /// <summary>Empties every mock's request journal (WireMock admin API).</summary>
    public async Task ClearJournalsAsync()
    {
        foreach (var url in MockUrls.Values)
        {
            using var response = await MockAdmin.DeleteAsync(new Uri(url, "/__admin/requests")).WaitAsync(Timeout);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The requests a mock received, oldest first, from its WireMock journal.</summary>
    public async Task<IReadOnlyList<JournalEntry>> JournalAsync(string account)
    {
        var entries = await MockAdmin.GetFromJsonAsync<JsonElement>(new Uri(MockUrls[account], "/__admin/requests")).WaitAsync(Timeout);
        return [.. entries.EnumerateArray().Select(JournalEntry.From).Where(e => e.RequestPath.StartsWith("/openai/", StringComparison.Ordinal)).OrderBy(e => e.Timestamp)];
    }

    public virtual async Task DisposeAsync()
    {
        Http.Dispose();
        MockAdmin.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(Timeout);
            await _app.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        _signingKey.Dispose();
    }
}

/// <summary>
/// A deployed gateway to run the scenarios against: configuration <c>Target:GatewayUrl</c> (the API Management gateway
/// URL, e.g. <c>https://apim-x.azure-api.net</c>), <c>Target:SubscriptionKey</c> and optionally
/// <c>Target:SecondSubscriptionKey</c> (environment variables <c>Target__GatewayUrl</c>...), and
/// <c>Target:FirstCallTimeout</c>, how long the first call may keep getting the accounts' 401 or 403 while the gateway's
/// role propagates (10 minutes by default: Azure RBAC's "up to 10 minutes").
/// </summary>
public sealed record DeployedTarget(Uri GatewayUrl, string SubscriptionKey, string? SecondSubscriptionKey)
{
    public static readonly TimeSpan DefaultFirstCallTimeout = TimeSpan.FromMinutes(10);

    /// <summary>How long the first call waits for the accounts to accept the gateway's identity.</summary>
    public TimeSpan FirstCallTimeout { get; init; } = DefaultFirstCallTimeout;

    /// <summary>The target the configuration names, or null when it names none.</summary>
    /// <exception cref="InvalidOperationException">A URL is given without a key, or is not an absolute http(s) URL.</exception>
    public static DeployedTarget? From(IConfiguration configuration)
    {
        var url = configuration["Target:GatewayUrl"];
        if (string.IsNullOrWhiteSpace(url))
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw new InvalidOperationException($"Target:GatewayUrl must be an absolute http(s) URL, not '{url}'.");
        }

        var key = configuration["Target:SubscriptionKey"];
        if (string.IsNullOrWhiteSpace(key))
        {
            throw new InvalidOperationException("Target:GatewayUrl is set but Target:SubscriptionKey is not: the scenarios need a subscription key of the deployed gateway.");
        }

        var firstCallTimeout = DefaultFirstCallTimeout;
        if (configuration["Target:FirstCallTimeout"] is { Length: > 0 } text
            && (!TimeSpan.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out firstCallTimeout) || firstCallTimeout < TimeSpan.Zero || firstCallTimeout > TimeSpan.FromHours(1)))
        {
            throw new InvalidOperationException($"Target:FirstCallTimeout must be a duration from 00:00:00 to 01:00:00, not '{text}'.");
        }

        return new DeployedTarget(uri, key, configuration["Target:SecondSubscriptionKey"] is { Length: > 0 } second ? second : null) { FirstCallTimeout = firstCallTimeout };
    }
}

/// <summary>One request as a mock's journal recorded it.</summary>
public sealed record JournalEntry(DateTime Timestamp, string RequestPath, string Url, IReadOnlyDictionary<string, string> RequestHeaders)
{
    public static JournalEntry From(JsonElement entry)
    {
        var request = entry.GetProperty("Request");
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (request.TryGetProperty("Headers", out var recorded) && recorded.ValueKind == JsonValueKind.Object)
        {
            foreach (var header in recorded.EnumerateObject())
            {
                headers[header.Name] = string.Join(",", header.Value.EnumerateArray().Select(v => v.GetString()));
            }
        }

        return new JournalEntry(request.GetProperty("DateTime").GetDateTime(), request.GetProperty("Path").GetString()!, request.GetProperty("AbsoluteUrl").GetString()!, headers);
    }
}
