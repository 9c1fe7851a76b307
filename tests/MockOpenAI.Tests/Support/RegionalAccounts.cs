using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// The shipped topology's three accounts (East US 2, Sweden Central, Japan East), each with gpt-4o and
/// text-embedding-3-small, on one fake clock and trusting one signing key (a gateway's), started once for a test class.
/// <see cref="ResetAsync"/> removes what a test scripted and empties the journals, so tests stay independent.
/// </summary>
public sealed class RegionalAccounts : IAsyncLifetime, IDisposable
{
    private readonly List<(LoopbackAccount Account, Guid Mapping)> _scripted = [];
    private LoopbackAccount? _eastUs2;
    private LoopbackAccount? _swedenCentral;
    private LoopbackAccount? _japanEast;

    internal ObservedTime Time { get; } = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));

    internal RSA Key { get; } = RSA.Create(2048);

    internal LoopbackAccount EastUs2 => _eastUs2!;

    internal LoopbackAccount SwedenCentral => _swedenCentral!;

    internal LoopbackAccount JapanEast => _japanEast!;

    internal IEnumerable<LoopbackAccount> All => [EastUs2, SwedenCentral, JapanEast];

    /// <summary>Every per-deployment backend of the shipped topology (URL <c>.../openai</c>), at its region's account.</summary>
    internal IReadOnlyDictionary<string, Uri> Backends => new Dictionary<string, Uri>
    {
        ["aoai-eastus2-gpt-4o"] = EastUs2.Http.BaseAddress!,
        ["aoai-eastus2-text-embedding-3-small"] = EastUs2.Http.BaseAddress!,
        ["aoai-swedencentral-gpt-4o"] = SwedenCentral.Http.BaseAddress!,
        ["aoai-swedencentral-text-embedding-3-small"] = SwedenCentral.Http.BaseAddress!,
        ["aoai-japaneast-gpt-4o"] = JapanEast.Http.BaseAddress!,
        ["aoai-japaneast-text-embedding-3-small"] = JapanEast.Http.BaseAddress!,
    };

    public async Task InitializeAsync()
    {
        _eastUs2 = await LoopbackAccount.StartAsync(Time, Options("aoai-eastus2", "eastus2"), signingKey: Key);
        _swedenCentral = await LoopbackAccount.StartAsync(Time, Options("aoai-swedencentral", "swedencentral"), signingKey: Key);
        _japanEast = await LoopbackAccount.StartAsync(Time, Options("aoai-japaneast", "japaneast"), signingKey: Key);
    }

    public async Task DisposeAsync()
    {
        foreach (var account in new[] { _eastUs2, _swedenCentral, _japanEast })
        {
            if (account is not null)
            {
                await account.DisposeAsync();
            }
        }
    }

    public void Dispose() => Key.Dispose();

    /// <summary>The region an account answers from, as its <c>x-ms-region</c> header says.</summary>
    internal static string RegionOf(HttpResponseMessage response) => response.Headers.TryGetValues("x-ms-region", out var values) ? values.Single() : "(none)";

    /// <summary>Removes every mapping <see cref="ScriptAsync"/> added and empties every account's journal.</summary>
    internal async Task ResetAsync()
    {
        foreach (var (account, mapping) in _scripted)
        {
            using var deleted = await account.Admin.DeleteAsync(new Uri($"/__admin/mappings/{mapping}", UriKind.Relative)).WaitAsync(TestTimeouts.Request);
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }

        _scripted.Clear();
        foreach (var account in All)
        {
            using var cleared = await account.Admin.DeleteAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request);
            Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        }
    }

    /// <summary>Makes <paramref name="account"/> answer every call to <paramref name="deployment"/> with <paramref name="response"/> (WireMock's JSON) until the next reset.</summary>
    internal async Task ScriptAsync(LoopbackAccount account, string response, string deployment = "gpt-4o")
    {
        var id = Guid.NewGuid();
        var mapping = $$"""
            {
              "Guid": "{{id}}",
              "Priority": 1,
              "Request": { "Path": { "Matchers": [ { "Name": "RegexMatcher", "Pattern": "^/openai/deployments/{{deployment}}/" } ] }, "Methods": [ "POST" ] },
              "Response": {{response}}
            }
            """;
        using var content = new StringContent(mapping, Encoding.UTF8, "application/json");
        using var created = await account.Admin.PostAsync(new Uri("/__admin/mappings", UriKind.Relative), content).WaitAsync(TestTimeouts.Request);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        _scripted.Add((account, id));
    }

    /// <summary>The requests the account received under <c>/openai/</c>, oldest first.</summary>
    internal static async Task<IReadOnlyList<JournalEntry>> JournalAsync(LoopbackAccount account)
    {
        using var journal = JsonDocument.Parse(await account.Admin.GetStringAsync(new Uri("/__admin/requests", UriKind.Relative)).WaitAsync(TestTimeouts.Request));
        return journal.RootElement.EnumerateArray()
            .Select(entry => JournalEntry.Read(entry.GetProperty("Request")))
            .Where(entry => entry.Path.StartsWith("/openai/", StringComparison.Ordinal))
            .OrderBy(entry => entry.At)
            .ToList();
    }

    private static MockOpenAIOptions Options(string name, string region)
    {
        var options = new MockOpenAIOptions { Account = name, Region = region };
        options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20" };
        options.Deployments["text-embedding-3-small"] = new DeploymentOptions { Model = "text-embedding-3-small", Version = "1" };
        return options;
    }
}
