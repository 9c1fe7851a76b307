using Microsoft.Extensions.Configuration;

namespace AppHost.Tests;

/// <summary>
/// Where the scenarios run: the local Aspire app (the default), or a gateway already deployed (API Management after
/// <c>azd up</c>) named by configuration <c>Scenarios:Target:GatewayUrl</c> with the keys of its subscriptions
/// (<c>Scenarios:Target:ChatAppKey</c>, <c>:SearchIndexerKey</c>), e.g. the environment variables
/// <c>Scenarios__Target__GatewayUrl</c>, <c>Scenarios__Target__ChatAppKey</c>, <c>Scenarios__Target__SearchIndexerKey</c>.
/// Against a deployed gateway the mocks do not exist: scenarios that read their journals, script their quotas or use
/// the local admin endpoints are skipped (<see cref="LocalOnlyFactAttribute"/>).
/// </summary>
public sealed record ScenarioTarget(Uri? GatewayUrl, string? ChatAppKey, string? SearchIndexerKey)
{
    public const string Section = "Scenarios:Target";

    private static readonly string[] Keys = ["ChatAppKey", "SearchIndexerKey"];

    public static ScenarioTarget Local { get; } = new(null, null, null);

    /// <summary>The target of this test run, from the environment (declared after <see cref="Local"/>, which it may return).</summary>
    public static ScenarioTarget Current { get; } = From(new ConfigurationBuilder().AddEnvironmentVariables().Build());

    public bool IsDeployed => GatewayUrl is not null;

    /// <summary>Reads the target; a deployed gateway without both keys is a configuration mistake, named as such.</summary>
    /// <exception cref="InvalidOperationException">The URL is not absolute, or a key is missing.</exception>
    public static ScenarioTarget From(IConfiguration configuration)
    {
        var section = configuration.GetSection(Section);
        var url = section["GatewayUrl"];
        if (string.IsNullOrWhiteSpace(url))
        {
            return Local;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var gatewayUrl))
        {
            throw new InvalidOperationException($"{Section}:GatewayUrl '{url}' is not an absolute URL");
        }

        var missing = Keys.Where(k => string.IsNullOrWhiteSpace(section[k])).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException($"a deployed target needs {string.Join(" and ", missing.Select(k => $"{Section}:{k}"))} (the subscriptions' keys)");
        }

        return new ScenarioTarget(gatewayUrl, section["ChatAppKey"], section["SearchIndexerKey"]);
    }
}

/// <summary>A scenario that needs the local app (the mocks' journals or quotas, the admin endpoints): skipped against a deployed gateway.</summary>
public sealed class LocalOnlyFactAttribute : FactAttribute
{
    public LocalOnlyFactAttribute()
    {
        Skip = SkipReason(ScenarioTarget.Current);
    }

    /// <summary>Why the scenario cannot run against the target, or null when it can.</summary>
    public static string? SkipReason(ScenarioTarget target) => target.IsDeployed
        ? $"needs the local app (the mock accounts' request journals and scripted quotas, or the gateway's admin endpoints), which the deployed gateway at {target.GatewayUrl} does not have"
        : null;
}
