using System.ComponentModel.DataAnnotations;

namespace MockOpenAI;

/// <summary>
/// How long a deployment takes: time to the first generated token, time per further token, time per embeddings
/// request, each varied by up to <see cref="Jitter"/> either way. All zero (the default) is the benchmark setting.
/// </summary>
internal sealed class LatencyOptions
{
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan TimeToFirstToken { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "00:00:10")]
    public TimeSpan PerOutputToken { get; set; }

    /// <summary>The whole time of an embeddings request.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan PerRequest { get; set; }

    /// <summary>A fraction from 0 to 1: each delay is multiplied by a random factor between 1 - Jitter and 1 + Jitter.</summary>
    [Range(0.0, 1.0)]
    public double Jitter { get; set; }
}
