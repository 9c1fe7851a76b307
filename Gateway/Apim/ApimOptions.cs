using System.Reflection;

namespace Gateway.Apim;

/// <summary>Where the API Management artefacts are and the local values that stand in for Azure's.</summary>
internal sealed class ApimOptions
{
    public const string SectionName = "Apim";

    /// <summary>The <c>apim/</c> folder; defaults to the one in the checkout the gateway was built from.</summary>
    public string? Path { get; set; }

    /// <summary>Values of named values (<c>{{name}}</c>), overriding those in <c>named-values.json</c>.</summary>
    public Dictionary<string, string> NamedValues { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Subscription keys by subscription name.</summary>
    public Dictionary<string, SubscriptionKeyOptions> Subscriptions { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Local URLs of backends by backend id (the mocks' addresses), overriding the topology's Azure URLs.</summary>
    public Dictionary<string, BackendOverrideOptions> Backends { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Credential manager connections by credential provider id, then connection (authorization) id.</summary>
    public Dictionary<string, Dictionary<string, Credentials.ConnectionOptions>> Connections { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Whether edits to the apim folder are picked up while the gateway runs (hot reload).</summary>
    public bool WatchForChanges { get; set; } = true;

    public string ResolvePath() => System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(Path) ? DefaultPath() : Path);

    private static string DefaultPath()
    {
        var repoRoot = typeof(ApimOptions).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "RepoRoot")?.Value;
        return System.IO.Path.Combine(repoRoot ?? AppContext.BaseDirectory, "apim");
    }
}

/// <summary>The two keys of a subscription; either may be absent.</summary>
internal sealed class SubscriptionKeyOptions
{
    public string? PrimaryKey { get; set; }

    public string? SecondaryKey { get; set; }
}

/// <summary>A local override of a backend's URL.</summary>
internal sealed class BackendOverrideOptions
{
    public string? Url { get; set; }
}
