namespace Gateway.Bench.SideBySide.Harness;

/// <summary>One process under load: what it is (<see cref="Kind"/>) and, for the gateway, the apim folder it loads.</summary>
/// <param name="Key">The name on the command line (<c>--target</c>).</param>
/// <param name="Title">The name in the table.</param>
/// <param name="Kind">Which program runs.</param>
/// <param name="ApimOverlay">For a gateway, files copied over a copy of <c>apim/</c>; null: <c>apim/</c> as shipped.</param>
internal sealed record Target(string Key, string Title, TargetKind Kind, string? ApimOverlay = null)
{
    public static readonly Target Backend = new("backend", "backend directly", TargetKind.Backend);
    public static readonly Target Yarp = new("yarp", "bare YARP 2.3 (IHttpForwarder)", TargetKind.Yarp);
    public static readonly Target Shipped = new("shipped", "gateway, shipped apim/ policy", TargetKind.Gateway);
    public static readonly Target Article = new("article", "gateway, article's random policy", TargetKind.Gateway, Repo.ArticleOverlay);
    public static readonly Target ForwardOnly = new("forward-only", "gateway, forward-only policy", TargetKind.Gateway, Repo.ForwardOnlyOverlay);

    /// <summary>In the order of the table.</summary>
    public static IReadOnlyList<Target> All { get; } = [Backend, Yarp, Shipped, Article, ForwardOnly];
}

internal enum TargetKind
{
    Backend,
    Yarp,
    Gateway,
}
