using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// What one run does: the side-by-side rounds (warm-up per target; durations per target and round), or one sustained
/// target. Defaults make a full run of about 10.5 minutes on a 2-core machine; <c>--quick</c> is a smoke run of about 1.5.
/// A round's saturated load is short (<see cref="Saturated"/>) and there are many rounds: this machine's speed drifts
/// over tens of seconds, and targets alternated every few seconds share the drift; the paced load, which needs no such
/// alternation, runs in rounds 1, 1 + <see cref="PacedEvery"/>, 1 + 2 × <see cref="PacedEvery"/>... only, after the round's saturated loads.
/// </summary>
internal sealed record BenchSettings(
    int Rounds,
    TimeSpan Warmup,
    TimeSpan Saturated,
    TimeSpan Paced,
    int Streams,
    TimeSpan? Sustained,
    string SustainedTarget,
    bool Pin = false,
    long? MemoryRequests = null,
    IReadOnlyList<Target>? Only = null,
    Target? Baseline = null,
    int PacedEvery = 1)
{
    /// <summary>Whether <paramref name="round"/> (from 1) also takes the paced load: round 1 and every <see cref="PacedEvery"/> rounds after it.</summary>
    public bool PacesIn(int round) => (round - 1) % PacedEvery == 0;

    /// <summary>
    /// The side-by-side's targets, in the order of the table: all of them, or those <c>--targets</c> names (bare YARP
    /// always); with <c>--baseline</c>, the shipped policy always and the baseline right after it, so the two follow
    /// each other in every round.
    /// </summary>
    public IReadOnlyList<Target> Compared =>
        [.. (Only is null ? Target.All : Target.All.Where(t => t == Target.Yarp || Only.Contains(t) || (Baseline is not null && t == Target.Shipped)))
            .SelectMany(t => Baseline is not null && t == Target.Shipped ? new[] { t, Baseline } : [t])];

    /// <summary>Connections of the saturated load (one wrk thread): the issue's <c>wrk -t1 -c32</c>.</summary>
    public const int SaturatedConnections = 32;

    /// <summary>The paced load: 4 connections, each waiting this long after every response.</summary>
    public const int PacedConnections = 4;

    public const int PacedThinkMilliseconds = 1;

    /// <summary>The memory mode's streamed completions held open at once (issue 11: 200).</summary>
    public const int ConcurrentStreams = 200;

    /// <summary>The memory mode's requests when <c>--memory</c> gives no number (issue 11: a million).</summary>
    public const long DefaultMemoryRequests = 1_000_000;

    /// <summary>The sustained and memory modes' reporting window.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The warm-up of every target in a side-by-side run and of the sustained mode: long enough that the measurement
    /// starts after the JIT has tiered the target's code up. Under saturated load the shipped gateway's tiering thread
    /// works for about 17 s (up to a quarter of the process's CPU; docs/performance.md), so a 5 s warm-up measured the
    /// shipped policy, which has the most code, mostly during its tiering (on a busy 2-core box, 5 s also left the
    /// sustained mode's first window at a third of the next).
    /// </summary>
    public static readonly TimeSpan JitWarmup = TimeSpan.FromSeconds(20);

    public const string Usage = """
        usage: bench/side-by-side.sh [--quick] [--rounds N] [--targets backend,shipped,article,forward-only] [--baseline CHECKOUT] [--pin]
               bench/side-by-side.sh --sustained SECONDS [--target backend|yarp|shipped|article|forward-only] [--pin]
               bench/side-by-side.sh --memory [REQUESTS] [--target yarp|shipped|article|forward-only] [--pin]
        """;

    public static BenchSettings Default { get; } = new(30, JitWarmup, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), 200, null, "shipped", PacedEvery: 5);

    public static BenchSettings Quick { get; } = new(4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2), 20, null, "shipped", PacedEvery: 3);

    /// <summary>Reads the command line; null (after printing why) when it is not understood.</summary>
    public static BenchSettings? Parse(string[] args, TextWriter error)
    {
        var settings = args.Contains("--quick") ? Quick : Default;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    break;
                case "--pin":
                    settings = settings with { Pin = true };
                    break;
                case "--rounds" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var rounds) && rounds >= 1:
                    settings = settings with { Rounds = rounds };
                    i++;
                    break;
                case "--sustained" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var seconds) && seconds >= 10:
                    settings = settings with { Sustained = TimeSpan.FromSeconds(seconds) };
                    i++;
                    break;
                case "--memory":
                    var count = DefaultMemoryRequests;
                    if (i + 1 < args.Length && long.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var requests))
                    {
                        if (requests < 10_000)
                        {
                            error.WriteLine("side-by-side: --memory needs at least 10000 requests");
                            return null;
                        }

                        count = requests;
                        i++;
                    }

                    settings = settings with { MemoryRequests = count };
                    break;
                case "--targets" when i + 1 < args.Length && !args.Contains("--sustained") && !args.Contains("--memory"):
                    var named = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    if (named.FirstOrDefault(n => Target.All.All(t => t.Key != n)) is { } unknown)
                    {
                        error.WriteLine($"side-by-side: no target '{unknown}': {string.Join(", ", Target.All.Select(t => t.Key))}");
                        return null;
                    }

                    settings = settings with { Only = [.. Target.All.Where(t => named.Contains(t.Key))] };
                    i++;
                    break;
                case "--baseline" when i + 1 < args.Length && !args.Contains("--sustained") && !args.Contains("--memory"):
                    var checkout = Path.GetFullPath(args[i + 1]);
                    var baseline = Target.Baseline(checkout);
                    if (!File.Exists(baseline.GatewayDll) || !Directory.Exists(Path.Combine(checkout, "apim")))
                    {
                        error.WriteLine($"side-by-side: --baseline needs a checkout with apim/ and a Release build of its gateway ({baseline.GatewayDll}): "
                            + "git worktree add DIR REV && dotnet build DIR/Gateway -c Release");
                        return null;
                    }

                    settings = settings with { Baseline = baseline };
                    i++;
                    break;
                case "--target" when i + 1 < args.Length:
                    settings = settings with { SustainedTarget = args[i + 1] };
                    i++;
                    break;
                default:
                    error.WriteLine($"side-by-side: cannot read '{args[i]}'");
                    error.WriteLine(Usage);
                    return null;
            }
        }

        return settings;
    }
}
