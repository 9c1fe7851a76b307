using System.ComponentModel.DataAnnotations;
using Gateway.Apim.Model;
using TokenCounting;

namespace MockOpenAI;

/// <summary>One emulated Azure OpenAI account: its region and deployments.</summary>
internal sealed class MockOpenAIOptions : MockHosting.IMockServerOptions
{
    public const string SectionName = "MockOpenAI";

    /// <summary>The account name, used in ids and logs.</summary>
    [Required]
    public string Account { get; set; } = "local";

    /// <summary>Sent in <c>x-ms-region</c> on every response.</summary>
    [Required]
    public string Region { get; set; } = "local";

    /// <summary>Deployments by name.</summary>
    public Dictionary<string, DeploymentOptions> Deployments { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The account's API keys. None (the default) is an account with local auth disabled: only Entra ID bearer tokens
    /// work, and a key is refused with 403. With keys, a matching <c>api-key</c> header works too.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>
    /// The dated data-plane API versions the account accepts in <c>api-version</c>: every GA and preview version with a
    /// published inference specification, up to 2024-10-21 (the last dated GA) and 2025-04-01-preview (the last dated
    /// preview; newer features ship on the v1 surface only). The v1 surface takes <see cref="V1ApiVersions"/> instead.
    /// </summary>
    public List<string> ApiVersions { get; set; } =
    [
        "2022-12-01", "2023-05-15", "2024-02-01", "2024-06-01", "2024-10-21",
        "2023-03-15-preview", "2023-06-01-preview", "2023-07-01-preview", "2023-08-01-preview", "2023-09-01-preview",
        "2023-10-01-preview", "2023-12-01-preview", "2024-02-15-preview", "2024-03-01-preview", "2024-04-01-preview",
        "2024-05-01-preview", "2024-07-01-preview", "2024-08-01-preview", "2024-09-01-preview", "2024-10-01-preview",
        "2024-12-01-preview", "2025-01-01-preview", "2025-02-01-preview", "2025-03-01-preview", "2025-04-01-preview",
    ];

    /// <summary>The values the v1 surface takes in its optional <c>api-version</c> (the v1 specification's enum, plus <c>latest</c>).</summary>
    public static readonly IReadOnlyList<string> V1ApiVersions = ["v1", "preview", "latest"];

    /// <summary>How many stored responses (Responses API, <c>store</c> not false) the account keeps; the oldest go first.</summary>
    [Range(1, 1_000_000)]
    public int StoredResponses { get; set; } = 1000;

    /// <summary>How long a stored response can be read, chained or listed (30 days, as OpenAI and Azure keep them).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan StoredResponseLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The share of inference requests (0 to 1) answered with a 500 instead, at random.</summary>
    [Range(0.0, 1.0)]
    public double ErrorRate { get; set; }

    /// <summary>The latency of every deployment that does not set its own.</summary>
    public LatencyOptions Latency { get; set; } = new();

    /// <summary>The latency that applies to <paramref name="deployment"/>.</summary>
    public LatencyOptions LatencyOf(DeploymentOptions deployment) => deployment.Latency ?? Latency;

    /// <summary>The user name of WireMock's admin API (<c>/__admin</c>: mappings, the request journal), with <see cref="AdminPassword"/>.</summary>
    [Required]
    public string AdminUsername { get; set; } = "admin";

    /// <summary>
    /// The password of WireMock's admin API (HTTP Basic). Without one the admin API is off: mappings and the journal
    /// hold what callers sent, so nobody reads or changes them without credentials. The AppHost generates one.
    /// </summary>
    public string? AdminPassword { get; set; }

    /// <summary>
    /// How many requests the journal keeps (oldest dropped first). Each entry holds the response too, and an
    /// embeddings answer is 20 to 30 KB of JSON: 1,000 entries cost a mock about 60 MB and kept it growing for minutes
    /// under load (docs/reliability.md, the soak run); 200 is enough to look back at a scenario.
    /// </summary>
    [Range(1, 1_000_000)]
    public int JournalSize { get; set; } = 200;
}

/// <summary>A model deployment.</summary>
internal sealed class DeploymentOptions
{
    private TokenCounter? _tokens;

    [Required]
    public string Model { get; set; } = string.Empty;

    public string Version { get; set; } = string.Empty;

    /// <summary>Thousands of tokens per minute: the deployment's quota (0: none).</summary>
    [Range(0, 100_000)]
    public int Capacity { get; set; }

    /// <summary>This deployment's own latency; the account's when unset.</summary>
    public LatencyOptions? Latency { get; set; }

    /// <summary>Which inference operation the model takes (the topology's rule).</summary>
    public ModelKind Kind => ModelKinds.Of(Model);

    public bool IsEmbeddings => Kind == ModelKind.Embeddings;

    /// <summary>Models that take text completions (the instruct and base models); the rest are chat models.</summary>
    public bool IsCompletions => Kind == ModelKind.Completions;

    /// <summary>Whether the model can do <paramref name="operation"/>.</summary>
    public bool Supports(OpenAI.InferenceOperation operation) =>
        Kind == (operation == OpenAI.InferenceOperation.Embeddings ? ModelKind.Embeddings
            : operation == OpenAI.InferenceOperation.Completions ? ModelKind.Completions
            : ModelKind.Chat);

    /// <summary>The model as Azure reports it in responses, e.g. <c>gpt-5.1-2025-11-13</c>.</summary>
    public string ReportedModel => IsEmbeddings || string.IsNullOrEmpty(Version) ? Model : $"{Model}-{Version}";

    /// <summary>The model's tokenizer.</summary>
    public TokenCounter Tokens => _tokens ??= TokenCounter.ForModel(Model);

    /// <summary>The embedding size of the model.</summary>
    public int EmbeddingDimensions => Model switch
    {
        "text-embedding-3-large" => 3072,
        _ => 1536,
    };
}
