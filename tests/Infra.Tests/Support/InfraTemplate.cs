using System.Reflection;
using System.Text.Json.Nodes;

namespace Infra.Tests.Support;

/// <summary>
/// infra/ compiled and linted once for all the tests, and main.bicep's compiled ARM template expanded offline into the
/// resources a deployment would create (<see cref="TemplateSnapshot"/>).
/// </summary>
public sealed class InfraTemplate : IAsyncLifetime
{
    public const string EnvironmentName = "infra-test";

    private readonly string _output = Directory.CreateTempSubdirectory("infra-tests-").FullName;

    /// <summary>The checkout the tests were built from.</summary>
    public static string RepoRoot { get; } = typeof(InfraTemplate).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string InfraPath { get; } = Path.Combine(RepoRoot, "infra");

    /// <summary>The apim/ folder main.bicep loads (its paths are fixed in the template, so always this checkout's).</summary>
    public static string ApimPath { get; } = Path.Combine(RepoRoot, "apim");

    /// <summary>Every .bicep file under infra/, relative to it.</summary>
    public static IReadOnlyList<string> BicepFiles { get; } =
        [.. Directory.GetFiles(InfraPath, "*.bicep", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(InfraPath, f)).Order(StringComparer.Ordinal)];

    /// <summary>What <c>bicep build</c> of every file printed (errors, type warnings and linter warnings).</summary>
    public IReadOnlyList<BicepDiagnostic> BuildDiagnostics { get; private set; } = [];

    /// <summary>What <c>bicep lint</c> of every file printed.</summary>
    public IReadOnlyList<BicepDiagnostic> LintDiagnostics { get; private set; } = [];

    /// <summary>The .bicep files whose compiled template was written.</summary>
    public IReadOnlyList<string> CompiledFiles { get; private set; } = [];

    /// <summary>main.bicep compiled to an ARM template.</summary>
    public JsonObject Compiled { get; private set; } = null!;

    /// <summary>main.json expanded into the resources a deployment creates.</summary>
    public TemplateSnapshot Snapshot { get; private set; } = null!;

    /// <summary>The resources the compiled template deploys, modules and loops expanded.</summary>
    public IReadOnlyList<JsonObject> Resources => Snapshot.Resources;

    /// <summary>The template's outputs as the snapshot evaluated them.</summary>
    public JsonObject Outputs => Snapshot.Outputs;

    public async Task InitializeAsync()
    {
        var build = await BicepCli.RunAsync(RepoRoot, "build", "--pattern", "infra/**/*.bicep", "--outdir", _output);
        BuildDiagnostics = Diagnostics(build);
        CompiledFiles = [.. BicepFiles.Where(f => File.Exists(Path.Combine(_output, Path.ChangeExtension(f, ".json"))))];

        var lint = await BicepCli.RunAsync(RepoRoot, "lint", "--pattern", "infra/**/*.bicep");
        LintDiagnostics = Diagnostics(lint);

        var compiledPath = Path.Combine(_output, "main.json");
        if (!File.Exists(compiledPath))
        {
            throw new InvalidOperationException($"main.bicep did not compile:{Environment.NewLine}{string.Join(Environment.NewLine, BuildDiagnostics)}");
        }

        Compiled = JsonNode.Parse(await File.ReadAllTextAsync(compiledPath))!.AsObject();

        Snapshot = await TemplateSnapshot.CreateAsync(_output, "main.json", Parameters());
    }

    /// <summary>The resource token the snapshot's environment got (the template's AZURE_RESOURCE_TOKEN output).</summary>
    public string ResourceToken => Outputs["AZURE_RESOURCE_TOKEN"]!.GetValue<string>();

    /// <summary>
    /// main.json expanded again with other parameter lines (another environment, other deployment settings), in a folder
    /// of its own so that the shared snapshot stays as it is.
    /// </summary>
    public async Task<TemplateSnapshot> SnapshotAsync(params string[] parameters)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_output, "snapshot-" + Guid.NewGuid().ToString("N"))).FullName;
        File.Copy(Path.Combine(_output, "main.json"), Path.Combine(folder, "main.json"));
        return await TemplateSnapshot.CreateAsync(folder, "main.json", parameters);
    }

    /// <summary>The parameter lines of the shared snapshot, for a variant that changes one of them.</summary>
    public static string[] Parameters(string environmentName = EnvironmentName) =>
        [$"param environmentName = '{environmentName}'", $"param location = '{TemplateSnapshot.Location}'"];

    /// <summary>The resources of a type.</summary>
    public IEnumerable<JsonObject> OfType(string type) => Snapshot.OfType(type);

    /// <summary>The one resource of a type.</summary>
    public JsonObject Sole(string type) => Snapshot.Sole(type);

    /// <summary>An API Management resource by type and name under the service, or null.</summary>
    public JsonObject? FindApim(string type, string name) => Snapshot.FindApim(type, name);

    /// <summary>An API Management resource by type and name under the service.</summary>
    public JsonObject Apim(string type, string name) => Snapshot.Apim(type, name);

    public Task DisposeAsync()
    {
        Directory.Delete(_output, recursive: true);
        return Task.CompletedTask;
    }

    private static List<BicepDiagnostic> Diagnostics((int ExitCode, string Output, string Errors) run)
    {
        // A module compiled on its own and again inside main.bicep reports the same finding twice: once is enough.
        var diagnostics = BicepDiagnostic.Parse(run.Errors).Distinct().ToList();
        if (run.ExitCode != 0 && diagnostics.Count == 0)
        {
            diagnostics.Add(new BicepDiagnostic(string.Empty, 0, 0, "Error", "exit", $"the Bicep CLI exited with {run.ExitCode}"));
        }

        return diagnostics;
    }
}

/// <summary>The test classes that read the compiled template share one compilation.</summary>
[CollectionDefinition(Name)]
public sealed class InfraTemplateGroup : ICollectionFixture<InfraTemplate>
{
    public const string Name = "Infra template";
}
