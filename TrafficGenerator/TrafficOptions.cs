using System.ComponentModel.DataAnnotations;

namespace TrafficGenerator;

/// <summary>
/// What the generator sends, where and how fast (section <c>Traffic</c>). The gateway, the keys and the deployments
/// have no defaults: the AppHost gives them from the topology and its secret parameters.
/// </summary>
internal sealed class TrafficOptions : IValidatableObject
{
    public const string SectionName = "Traffic";

    /// <summary>The gateway's base URL (the v1 client's endpoint is <c>{GatewayUrl}/openai/v1/</c>).</summary>
    [Required]
    public Uri? GatewayUrl { get; set; }

    /// <summary>Subscription keys by subscription name; requests rotate through the subscriptions. Never logged.</summary>
    public Dictionary<string, string> Subscriptions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The chat deployment (chat, streamed chat and Responses name it as the model); needed unless their weights are 0.</summary>
    public string ChatDeployment { get; set; } = string.Empty;

    /// <summary>The embeddings deployment; needed unless its weight is 0.</summary>
    public string EmbeddingsDeployment { get; set; } = string.Empty;

    /// <summary>Steady (one rate) or bursty (a quiet period, then a burst, over and over).</summary>
    public TrafficMode Mode { get; set; } = TrafficMode.Steady;

    /// <summary>The rate in steady mode, and the quiet rate between bursts in bursty mode.</summary>
    [Range(0.01, 1000)]
    public double RequestsPerSecond { get; set; } = 2;

    /// <summary>The bursts of bursty mode.</summary>
    public BurstOptions Burst { get; set; } = new();

    /// <summary>The relative weights of the operations.</summary>
    public MixOptions Mix { get; set; } = new();

    /// <summary>
    /// Requests in flight at most: a request due while this many are still running is skipped and counted, so that a
    /// slow or hanging gateway never piles up requests.
    /// </summary>
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = 64;

    /// <summary>
    /// The client's own retries (its policy waits out <c>Retry-After</c> with exponential backoff). 0 by default: every
    /// 429 and 5xx is counted as the gateway sent it, and a throttled gateway is never sent more than the schedule.
    /// </summary>
    [Range(0, 10)]
    public int MaxRetries { get; set; }

    /// <summary>How long one call may take (the client's network timeout), streams included.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the summary is logged.</summary>
    public TimeSpan SummaryInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The output tokens each chat and Responses call asks for at most.</summary>
    [Range(1, 4096)]
    public int MaxOutputTokens { get; set; } = 32;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Subscriptions.Count == 0 || Subscriptions.Values.Any(string.IsNullOrWhiteSpace))
        {
            yield return new ValidationResult("Traffic:Subscriptions needs at least one subscription, each with its key.", [nameof(Subscriptions)]);
        }

        if (RequestTimeout <= TimeSpan.Zero || SummaryInterval <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Traffic:RequestTimeout and Traffic:SummaryInterval must be positive.", [nameof(RequestTimeout), nameof(SummaryInterval)]);
        }

        if (Burst.RequestsPerSecond is < 0.01 or > 1000 || Burst.QuietPeriod <= TimeSpan.Zero || Burst.Length <= TimeSpan.Zero)
        {
            yield return new ValidationResult("Traffic:Burst needs RequestsPerSecond from 0.01 to 1000 and a positive QuietPeriod and Length.", [nameof(Burst)]);
        }

        if (Mix.Chat < 0 || Mix.StreamedChat < 0 || Mix.Responses < 0 || Mix.Embeddings < 0 || Mix.Chat + Mix.StreamedChat + Mix.Responses + Mix.Embeddings == 0)
        {
            yield return new ValidationResult("Traffic:Mix weights must be 0 or more, and not all 0.", [nameof(Mix)]);
        }

        if (string.IsNullOrWhiteSpace(ChatDeployment) && Mix.Chat + Mix.StreamedChat + Mix.Responses > 0)
        {
            yield return new ValidationResult("Traffic:ChatDeployment is needed while chat or Responses calls are in the mix.", [nameof(ChatDeployment)]);
        }

        if (string.IsNullOrWhiteSpace(EmbeddingsDeployment) && Mix.Embeddings > 0)
        {
            yield return new ValidationResult("Traffic:EmbeddingsDeployment is needed while embeddings are in the mix (or set Traffic:Mix:Embeddings to 0).", [nameof(EmbeddingsDeployment)]);
        }
    }
}

/// <summary>How the rate varies over time.</summary>
internal enum TrafficMode
{
    /// <summary><see cref="TrafficOptions.RequestsPerSecond"/> all the time.</summary>
    Steady,

    /// <summary><see cref="TrafficOptions.RequestsPerSecond"/> for <see cref="BurstOptions.QuietPeriod"/>, then <see cref="BurstOptions.RequestsPerSecond"/> for <see cref="BurstOptions.Length"/>, and again.</summary>
    Bursty,
}

/// <summary>The bursts of bursty mode.</summary>
internal sealed class BurstOptions
{
    /// <summary>The quiet time before each burst.</summary>
    public TimeSpan QuietPeriod { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a burst lasts.</summary>
    public TimeSpan Length { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The rate during a burst.</summary>
    public double RequestsPerSecond { get; set; } = 20;
}

/// <summary>Relative weights of the operations (0 leaves one out).</summary>
internal sealed class MixOptions
{
    public int Chat { get; set; } = 4;

    public int StreamedChat { get; set; } = 2;

    public int Responses { get; set; } = 2;

    public int Embeddings { get; set; } = 2;
}
