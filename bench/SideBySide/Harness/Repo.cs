using System.Reflection;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>Where the harness finds what it runs: this checkout (the build's RepoRoot) and the gateway's build next to its own.</summary>
internal static class Repo
{
    public static string Root { get; } = typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string Apim => Path.Combine(Root, "apim");

    /// <summary>The article's random load-balancing policy, an overlay on <c>apim/</c>.</summary>
    public static string ArticleOverlay => Path.Combine(Root, "examples", "article-random");

    /// <summary>A policy that only forwards, an overlay on <c>apim/</c>.</summary>
    public static string ForwardOnlyOverlay => Path.Combine(Root, "bench", "SideBySide", "policies", "forward-only");

    public static string WrkScript => Path.Combine(Root, "bench", "SideBySide", "chat.lua");

    /// <summary>The gateway built in the harness's own configuration (the script builds Release).</summary>
    public static string GatewayDll => Path.Combine(Root, "Gateway", "bin", Configuration, "net10.0", "Gateway.dll");

    /// <summary>This executable, started again in the backend and YARP roles.</summary>
    public static string SelfDll => typeof(Repo).Assembly.Location;

#if DEBUG
    public const string Configuration = "Debug";
#else
    public const string Configuration = "Release";
#endif
}
