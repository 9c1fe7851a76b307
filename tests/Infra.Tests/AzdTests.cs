using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>What <c>azd up</c> reads besides the template: azure.yaml, the parameters file, the hooks, and what the user is told.</summary>
[Collection(InfraTemplateGroup.Name)]
public sealed partial class AzdTests(InfraTemplate template)
{
    private static readonly string AzureYaml = File.ReadAllText(Path.Combine(InfraTemplate.RepoRoot, "azure.yaml"));

    [Fact]
    public void AzureYaml_IsInfrastructureOnly_FromInfraMain()
    {
        Assert.DoesNotMatch(new Regex("^services:", RegexOptions.Multiline), AzureYaml);
        Assert.Matches(new Regex(@"^infra:\s*\n\s+provider: bicep\s*\n\s+path: infra\s*\n\s+module: main\s*$", RegexOptions.Multiline), AzureYaml);
    }

    [Fact]
    public void AzureYaml_PostProvisionHook_RunsInBothShells_AndTheScriptsTellTheUrlAndHowToReadAKey()
    {
        Assert.Contains("  postprovision:", AzureYaml, StringComparison.Ordinal);
        foreach (var (shell, script) in new[] { ("sh", "./infra/hooks/postprovision.sh"), ("pwsh", "./infra/hooks/postprovision.ps1") })
        {
            Assert.Contains($"shell: {shell}", AzureYaml, StringComparison.Ordinal);
            Assert.Contains($"run: {script}", AzureYaml, StringComparison.Ordinal);
            var text = File.ReadAllText(Path.Combine(InfraTemplate.RepoRoot, script));
            Assert.Contains("GATEWAY_URL", text, StringComparison.Ordinal);
            Assert.Contains("/listSecrets?api-version=", text, StringComparison.Ordinal);

            // Every output the script reads is one the template has (or one azd sets itself).
            foreach (var name in EnvironmentReference().Matches(text).Select(m => m.Groups["name"].Value).Distinct())
            {
                Assert.True(name == "AZURE_SUBSCRIPTION_ID" || template.Outputs.ContainsKey(name), $"{script} reads {name}, which the template does not output");
            }
        }
    }

    [Theory]
    [InlineData("preprovision", "PREFLIGHT_SKIP")]
    [InlineData("predown", "--purge")]
    public void AzureYaml_PreprovisionAndPredownHooks_RunInBothShells(string hook, string text)
    {
        Assert.Contains($"  {hook}:", AzureYaml, StringComparison.Ordinal);
        foreach (var (shell, script) in new[] { ("sh", $"./infra/hooks/{hook}.sh"), ("pwsh", $"./infra/hooks/{hook}.ps1") })
        {
            Assert.Contains($"shell: {shell}\n      run: {script}", AzureYaml.ReplaceLineEndings("\n"), StringComparison.Ordinal);
            Assert.Contains(text, File.ReadAllText(Path.Combine(InfraTemplate.RepoRoot, script)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Readme_NamesTheAzdVersionAzureYamlRequires_AndShowsAzdUp()
    {
        var readme = File.ReadAllText(Path.Combine(InfraTemplate.RepoRoot, "README.md"));
        var version = RequiredAzd().Match(AzureYaml).Groups["version"].Value;

        Assert.Matches(@"^\d+\.\d+\.\d+$", version);
        Assert.Contains("## Deploy to Azure", readme, StringComparison.Ordinal);
        Assert.Contains($"azd {version}", readme, StringComparison.Ordinal);
        Assert.Contains("azd up", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void MainParameters_NameOnlyParametersOfTheTemplate()
    {
        var parameters = JsonNode.Parse(File.ReadAllText(Path.Combine(InfraTemplate.InfraPath, "main.parameters.json")))!["parameters"]!.AsObject();
        var declared = template.Compiled["parameters"]!.AsObject();

        Assert.All(parameters, p => Assert.True(declared.ContainsKey(p.Key), $"main.parameters.json sets {p.Key}, which main.bicep does not declare"));
        Assert.Contains("environmentName", parameters.Select(p => p.Key));
        Assert.Contains("location", parameters.Select(p => p.Key));
    }

    [Fact]
    public void Outputs_GiveTheGatewayUrlOfTheApi_AndTheResourceNames()
    {
        var service = template.Sole("Microsoft.ApiManagement/service");

        Assert.Equal($"[format('{{0}}/{{1}}', reference('{service["id"]}', '2025-03-01-preview').gatewayUrl, 'openai')]", template.Outputs["GATEWAY_URL"]!.GetValue<string>());
        Assert.Equal(service["name"]!.GetValue<string>(), template.Outputs["APIM_NAME"]!.GetValue<string>());
        Assert.Equal($"rg-{InfraTemplate.EnvironmentName}", template.Outputs["AZURE_RESOURCE_GROUP"]!.GetValue<string>());
        Assert.Equal("chat-app,search-indexer", template.Outputs["APIM_SUBSCRIPTIONS"]!.GetValue<string>());
        Assert.Equal("aoai-eastus2,aoai-swedencentral,aoai-japaneast", template.Outputs["AZURE_OPENAI_ACCOUNTS"]!.GetValue<string>());
        Assert.Equal("contentsafety-eastus2", template.Outputs["AZURE_CONTENT_SAFETY_ACCOUNTS"]!.GetValue<string>());
    }

    [GeneratedRegex(@"\$\{?(?:env:)?(?<name>[A-Z][A-Z0-9_]+)")]
    private static partial Regex EnvironmentReference();

    [GeneratedRegex(@"requiredVersions:\s*\n\s+azd:\s*""?>=\s*(?<version>[0-9.]+)""?")]
    private static partial Regex RequiredAzd();
}
