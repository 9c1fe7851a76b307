using System.Reflection;
using System.Text.Json.Nodes;

namespace Infra.Tests.Support;

/// <summary>
/// infra/ compiled and linted once for all the tests, and main.bicep's compiled ARM template expanded offline by the
/// Bicep CLI's snapshot (the deployment engine's own evaluation of loops, modules and functions, for a fixed
/// subscription, tenant and region) into the resources a deployment would create. Values only Azure knows at
/// deployment time (an identity's client id, the gateway URL) stay as <c>[reference(...)]</c> expressions.
/// </summary>
public sealed class InfraTemplate : IAsyncLifetime
{
    public const string SubscriptionId = "00000000-0000-0000-0000-00000000a001";
    public const string TenantId = "00000000-0000-0000-0000-00000000a002";
    public const string EnvironmentName = "infra-test";
    public const string Location = "eastus2";

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

    /// <summary>The resources the compiled template deploys, modules and loops expanded.</summary>
    public IReadOnlyList<JsonObject> Resources { get; private set; } = [];

    /// <summary>The template's outputs as the snapshot evaluated them.</summary>
    public JsonObject Outputs { get; private set; } = null!;

    /// <summary>The API Management service's resource name.</summary>
    public string ServiceName => Sole("Microsoft.ApiManagement/service")["name"]!.GetValue<string>();

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

        // The snapshot takes a parameters file that uses the compiled template, so what is expanded is main.json itself.
        var parameters = Path.Combine(_output, "main.bicepparam");
        await File.WriteAllTextAsync(parameters, $"""
            using 'main.json'

            param environmentName = '{EnvironmentName}'
            param location = '{Location}'
            """);
        var snapshot = await BicepCli.RunAsync(
            _output, "snapshot", parameters, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--location", Location, "--deployment-name", "main");
        var snapshotPath = Path.Combine(_output, "main.snapshot.json");
        if (snapshot.ExitCode != 0 || !File.Exists(snapshotPath))
        {
            throw new InvalidOperationException($"bicep snapshot failed ({snapshot.ExitCode}):{Environment.NewLine}{snapshot.Errors}{snapshot.Output}");
        }

        var predicted = JsonNode.Parse(await File.ReadAllTextAsync(snapshotPath))!.AsObject();
        if (predicted["diagnostics"] is JsonArray { Count: > 0 } problems)
        {
            throw new InvalidOperationException($"bicep snapshot reported: {problems.ToJsonString()}");
        }

        Resources = [.. predicted["predictedResources"]!.AsArray().Select(r => r!.AsObject())];
        Outputs = predicted["outputs"]!.AsObject();
    }

    /// <summary>The resources of a type.</summary>
    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals(r["type"]!.GetValue<string>(), type, StringComparison.OrdinalIgnoreCase));

    /// <summary>The one resource of a type.</summary>
    public JsonObject Sole(string type) => Assert.Single(OfType(type));

    /// <summary>A resource of API Management, by type and its name under the service (<c>apis/azure-openai/policy</c> is <c>azure-openai/policy</c>), or null.</summary>
    public JsonObject? FindApim(string type, string name) =>
        OfType(type).SingleOrDefault(r => string.Equals(r["name"]!.GetValue<string>(), $"{ServiceName}/{name}", StringComparison.OrdinalIgnoreCase));

    /// <summary>Like <see cref="FindApim"/>, failing when it is missing.</summary>
    public JsonObject Apim(string type, string name) =>
        FindApim(type, name) ?? throw new Xunit.Sdk.XunitException($"the template deploys no {type} named {name}");

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
