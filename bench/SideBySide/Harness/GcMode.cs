using System.Text.Json;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// A process's garbage collector: as configured (its runtimeconfig.json; the harness clears the DOTNET_gc* variables,
/// so nothing overrides it) and as seen (its GC threads: one ".NET Server GC" thread per server heap, ".NET BGC" per
/// background GC thread).
/// </summary>
internal sealed record GcMode(bool Server, bool Concurrent, string Adaptation, int ServerGcThreads, int BackgroundGcThreads)
{
    public static GcMode Of(TargetProcess process)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(process.RuntimeConfig));
        var properties = document.RootElement.GetProperty("runtimeOptions").TryGetProperty("configProperties", out var p) ? p : default;
        var server = Flag(properties, "System.GC.Server") ?? false;
        var concurrent = Flag(properties, "System.GC.Concurrent") ?? true;
        var adaptation = properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("System.GC.DynamicAdaptationMode", out var mode)
            ? $"DynamicAdaptationMode={mode}"
            : server ? "DATAS (the runtime's default for server GC)" : "none";
        if (server && properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty("System.GC.DTargetTCP", out var tcp))
        {
            adaptation += $", throughput cost target {tcp} % (System.GC.DTargetTCP; the default is 2)";
        }

        var threads = ProcStats.ThreadNames(process.Pid);
        return new GcMode(server, concurrent, adaptation, threads.Count(t => t == ".NET Server GC"), threads.Count(t => t == ".NET BGC"));
    }

    public override string ToString() =>
        $"{(Server ? "server" : "workstation")}, {(Concurrent ? "concurrent" : "non-concurrent")}, {Adaptation}; "
        + $"threads seen: {ServerGcThreads} server GC, {BackgroundGcThreads} background GC";

    private static bool? Flag(JsonElement properties, string name) =>
        properties.ValueKind == JsonValueKind.Object && properties.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;
}
