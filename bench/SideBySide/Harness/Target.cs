namespace Gateway.Bench.SideBySide.Harness;

/// <summary>One process under load: what it is (<see cref="Kind"/>) and, for the gateway, the apim folder it loads.</summary>
/// <param name="Key">The name on the command line (<c>--target</c>).</param>
/// <param name="Title">The name in the table.</param>
/// <param name="Kind">Which program runs.</param>
/// <param name="ApimOverlay">For a gateway, files copied over a copy of <c>apim/</c>; null: <c>apim/</c> as shipped.</param>
/// <param name="Checkout">For a gateway, another checkout whose Release build and <c>apim/</c> run; null: this one.</param>
internal sealed record Target(string Key, string Title, TargetKind Kind, string? ApimOverlay = null, string? Checkout = null)
{
    public static readonly Target Backend = new("backend", "backend directly", TargetKind.Backend);
    public static readonly Target Yarp = new("yarp", "bare YARP 2.3 (IHttpForwarder)", TargetKind.Yarp);
    public static readonly Target Shipped = new("shipped", "gateway, shipped apim/ policy", TargetKind.Gateway);
    public static readonly Target Article = new("article", "gateway, article's random policy", TargetKind.Gateway, Repo.ArticleOverlay);
    public static readonly Target ForwardOnly = new("forward-only", "gateway, forward-only policy", TargetKind.Gateway, Repo.ForwardOnlyOverlay);

    /// <summary>In the order of the table.</summary>
    public static IReadOnlyList<Target> All { get; } = [Backend, Yarp, Shipped, Article, ForwardOnly];

    /// <summary>
    /// <c>--baseline CHECKOUT</c>: the shipped policy of another checkout (a <c>git worktree</c> of an earlier commit,
    /// built in Release), so that a change is compared with what it changes in the same run, round by round.
    /// </summary>
    public static Target Baseline(string checkout) =>
        new("baseline", $"gateway at {Path.GetFileName(Path.TrimEndingDirectorySeparator(checkout))}, its shipped apim/ policy", TargetKind.Gateway, null, checkout);

    /// <summary>The gateway this target runs: the checkout's Release build.</summary>
    public string GatewayDll => Checkout is null ? Repo.GatewayDll : Path.Combine(Checkout, "Gateway", "bin", Repo.Configuration, "net10.0", "Gateway.dll");
}

internal enum TargetKind
{
    Backend,
    Yarp,
    Gateway,
}
