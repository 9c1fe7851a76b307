using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.Testing;
using Gateway.Apim.Model;
using Microsoft.Extensions.Configuration;

namespace AppHost.Tests;

/// <summary>
/// The whole AppHost (gateway and one mock per account of apim/topology.json) started once for a test class, with
/// subscription keys and the identity key pair chosen by the test so that it can check what the mocks received; or,
/// when <see cref="ScenarioTarget.Current"/> names a deployed gateway, that gateway and its keys, with no app started.
/// </summary>
public class LoadBalancedAppFixture : IAsyncLifetime
{
    public const string LocalChatAppKey = "it-chat-app-primary-key-00000000001";
    public const string ChatAppSecondaryKey = "it-chat-app-secondary-key-000000002";
    public const string AdminKey = "it-gateway-admin-key-0000000000005";
    public const string LocalSearchIndexerKey = "it-search-indexer-primary-key-000003";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    private readonly RSA _signingKey = RSA.Create(2048);
    private readonly ScenarioTarget _target;
    private DistributedApplication? _app;

    public LoadBalancedAppFixture()
        : this(ScenarioTarget.Current)
    {
    }

    /// <summary>A fixture for the given target (tests of the switch itself).</summary>
    internal LoadBalancedAppFixture(ScenarioTarget target)
    {
        _target = target;
    }

    /// <summary>Whether the scenarios run against a deployed gateway rather than the local app.</summary>
    public bool IsDeployed => _target.IsDeployed;

    /// <summary>The chat-app subscription's primary key on the target.</summary>
    public string ChatAppKey => _target.ChatAppKey ?? LocalChatAppKey;

    /// <summary>The search-indexer subscription's primary key on the target.</summary>
    public string SearchIndexerKey => _target.SearchIndexerKey ?? LocalSearchIndexerKey;

    public Uri GatewayUrl { get; private set; } = null!;

    public IReadOnlyDictionary<string, Uri> MockUrls { get; private set; } = null!;

    public HttpClient Http { get; } = new(new SocketsHttpHandler { ActivityHeadersPropagator = null }) { Timeout = TimeSpan.FromSeconds(60) };

    public RSA SigningKey => _signingKey;

    /// <summary>The apim/ folder the app runs; a derived fixture may run another.</summary>
    protected virtual string ApimPathUnderTest => ApimPath;

    /// <summary>More AppHost settings (<c>--Name=value</c>) a derived fixture needs.</summary>
    protected virtual IEnumerable<string> ExtraArguments => [];

    public async Task InitializeAsync()
    {
        if (_target.IsDeployed)
        {
            GatewayUrl = _target.GatewayUrl!;
            MockUrls = new Dictionary<string, Uri>();
            return;
        }

        using var cancellation = new CancellationTokenSource(Timeout);
        // Command-line values outrank the AppHost's user secrets, where a developer's own generated keys live.
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                "--Apim:Path=" + ApimPathUnderTest,

                // Streams paced 50 ms a token from the first token on; no jitter, so timing assertions have wide margins.
                "--MockOpenAI:Latency:TimeToFirstToken=00:00:00",
                "--MockOpenAI:Latency:PerOutputToken=00:00:00.050",
                "--MockOpenAI:Latency:PerRequest=00:00:00",
                "--MockOpenAI:Latency:Jitter=0",
                "--LocalIdentity:SigningKey=" + _signingKey.ExportPkcs8PrivateKeyPem(),
                "--Parameters:chat-app-primary-key=" + LocalChatAppKey,
                "--Parameters:chat-app-secondary-key=" + ChatAppSecondaryKey,
                "--Parameters:search-indexer-primary-key=" + LocalSearchIndexerKey,
                "--Parameters:search-indexer-secondary-key=it-search-indexer-secondary-key-0004",
                "--Parameters:gateway-admin-key=" + AdminKey,
                .. ExtraArguments,
            ],
            cancellation.Token);
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

    /// <summary>The checkout the tests were built from.</summary>
    public static string RepoRoot { get; } = typeof(LoadBalancedAppFixture).Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>The apim/ folder under test: configuration <c>Apim:Path</c> (e.g. the environment variable <c>Apim__Path</c>), else this checkout's.</summary>
    public static string ApimPath { get; } = Path.GetFullPath(
        new ConfigurationBuilder().AddEnvironmentVariables().Build()["Apim:Path"] ?? Path.Combine(RepoRoot, "apim"));

    /// <summary>Empties every mock's request journal (WireMock admin API).</summary>
    public async Task ClearJournalsAsync()
    {
        foreach (var url in MockUrls.Values)
        {
            using var response = await Http.DeleteAsync(new Uri(url, "/__admin/requests")).WaitAsync(Timeout);
            response.EnsureSuccessStatusCode();
        }
    }

    /// <summary>The requests a mock received, oldest first, from its WireMock journal.</summary>
    public async Task<IReadOnlyList<JournalEntry>> JournalAsync(string account)
    {
        var entries = await Http.GetFromJsonAsync<JsonElement>(new Uri(MockUrls[account], "/__admin/requests")).WaitAsync(Timeout);
        return [.. entries.EnumerateArray().Select(JournalEntry.From).Where(e => e.RequestPath.StartsWith("/openai/", StringComparison.Ordinal)).OrderBy(e => e.Timestamp)];
    }

    public virtual async Task DisposeAsync()
    {
        Http.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync().WaitAsync(Timeout);
            await _app.DisposeAsync().AsTask().WaitAsync(Timeout);
        }

        _signingKey.Dispose();
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
