using System.Text.Json.Nodes;

namespace Infra.Tests.Support;

/// <summary>
/// The resources a compiled ARM template deploys, as <c>bicep snapshot</c> predicts them offline: the deployment
/// engine's own evaluation of loops, modules and functions for a fixed subscription, tenant and region. Values only
/// Azure knows at deployment time (an identity's client id, the gateway URL) stay <c>[reference(...)]</c> expressions.
/// </summary>
public sealed class TemplateSnapshot
{
    public const string SubscriptionId = "00000000-0000-0000-0000-00000000a001";
    public const string TenantId = "00000000-0000-0000-0000-00000000a002";
    public const string Location = "eastus2";

    private TemplateSnapshot(IReadOnlyList<JsonObject> resources, JsonObject outputs)
    {
        Resources = resources;
        Outputs = outputs;
    }

    /// <summary>The resources, modules and loops expanded.</summary>
    public IReadOnlyList<JsonObject> Resources { get; }

    /// <summary>The template's outputs, evaluated.</summary>
    public JsonObject Outputs { get; }

    /// <summary>Expands <paramref name="template"/> (a compiled .json in <paramref name="directory"/>) with the given parameter lines.</summary>
    /// <param name="directory">Where the template is; the parameters file and the snapshot are written there.</param>
    /// <param name="template">The compiled template's file name.</param>
    /// <param name="parameters">Lines of a .bicepparam file (<c>param name = value</c>).</param>
    /// <param name="resourceGroup">The resource group of a resource-group-scoped template; null for one at subscription scope.</param>
    public static async Task<TemplateSnapshot> CreateAsync(string directory, string template, IEnumerable<string> parameters, string? resourceGroup = null)
    {
        var name = Path.GetFileNameWithoutExtension(template);
        var parametersPath = Path.Combine(directory, name + ".bicepparam");

        // The parameters file uses the compiled template, so what is expanded is exactly the ARM JSON the build wrote.
        await File.WriteAllLinesAsync(parametersPath, [$"using '{template}'", .. parameters]);
        string[] scope = resourceGroup is null ? [] : ["--resource-group", resourceGroup];
        var run = await BicepCli.RunAsync(
            directory, ["snapshot", parametersPath, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--location", Location, "--deployment-name", name, .. scope]);
        var snapshotPath = Path.Combine(directory, name + ".snapshot.json");
        if (run.ExitCode != 0 || !File.Exists(snapshotPath))
        {
            throw new InvalidOperationException($"bicep snapshot of {template} failed ({run.ExitCode}):{Environment.NewLine}{run.Errors}{run.Output}");
        }

        var snapshot = JsonNode.Parse(await File.ReadAllTextAsync(snapshotPath))!.AsObject();
        if (snapshot["diagnostics"] is JsonArray { Count: > 0 } problems)
        {
            throw new InvalidOperationException($"bicep snapshot of {template} reported: {problems.ToJsonString()}");
        }

        return new TemplateSnapshot([.. snapshot["predictedResources"]!.AsArray().Select(r => r!.AsObject())], snapshot["outputs"]!.AsObject());
    }

    /// <summary>The resources of a type.</summary>
    public IEnumerable<JsonObject> OfType(string type) =>
        Resources.Where(r => string.Equals(r["type"]!.GetValue<string>(), type, StringComparison.OrdinalIgnoreCase));

    /// <summary>The one resource of a type.</summary>
    public JsonObject Sole(string type) => Assert.Single(OfType(type));

    /// <summary>A resource of the API Management service, by type and its name under the service (<c>azure-openai/policy</c>), or null.</summary>
    public JsonObject? FindApim(string type, string name)
    {
        var service = Sole("Microsoft.ApiManagement/service")["name"]!.GetValue<string>();
        return OfType(type).SingleOrDefault(r => string.Equals(r["name"]!.GetValue<string>(), $"{service}/{name}", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Like <see cref="FindApim"/>, failing when it is missing.</summary>
    public JsonObject Apim(string type, string name) =>
        FindApim(type, name) ?? throw new Xunit.Sdk.XunitException($"the template deploys no {type} named {name}");
}
