using System.Text.Json.Nodes;
using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// infra/hooks/preprovision.sh and its PowerShell twin against a stand-in az answering from recorded JSON: the shipped
/// topology in a subscription that can take it, then one failure at a time, each with what to change.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class PreflightTests(InfraTemplate template) : IDisposable
{
    private const string Sh = "sh";
    private const string Pwsh = "pwsh";
    private readonly Preflight _preflight = new();

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task Valid_EveryCheckPasses_AndEveryAzCallNamesTheEnvironmentsSubscription(string shell)
    {
        var (exitCode, output) = await RunAsync(shell);

        Assert.True(exitCode == 0, output);
        Assert.DoesNotContain("FAIL", output, StringComparison.Ordinal);
        Assert.Contains("every check passed", output, StringComparison.Ordinal);
        Assert.Contains("ok    aoai-swedencentral/text-embedding-3-small: text-embedding-3-small 1 GlobalStandard in swedencentral is offered", output, StringComparison.Ordinal);
        Assert.Contains("ok    quota OpenAI.GlobalStandard.gpt-5.1 in eastus2: 150 of 980", output, StringComparison.Ordinal);
        Assert.All(_preflight.Calls.Where(c => !c.StartsWith("ad ", StringComparison.Ordinal)), call => Assert.Contains($"--subscription {TemplateSnapshot.SubscriptionId}", call, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task ResourceToken_IsTheOneTheTemplateDeploysWith(string shell)
    {
        // The preflight recomputes uniqueString(subscription().id, environmentName, location) to know the names it
        // checks; the Bicep CLI's evaluation of main.bicep for the same environment says what ARM will compute.
        var (_, output) = await RunAsync(shell);

        Assert.Contains($"resource token {template.ResourceToken} (API Management 'apim-{template.ResourceToken}'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task RetiredModel_FailsWithTheDate_AndTheSettingThatPicksAnotherVersion(string shell)
    {
        // The recorded answers list gpt-5.1 2025-11-13 as retiring on 2027-05-15: run the preflight on a later day.
        _preflight.Values["PREFLIGHT_NOW"] = "2027-06-01";

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  aoai-eastus2/gpt-4o: gpt-5.1 2025-11-13 GlobalStandard in eastus2: retired on 2027-05-15 (deployments of a retired model fail: ServiceModelDeprecating)", output, StringComparison.Ordinal);
        Assert.Contains("azd env set AOAI_GPT_4O_VERSION <version>", output, StringComparison.Ordinal);
        Assert.Contains("FAIL  aoai-japaneast/text-embedding-3-small: text-embedding-3-small 1 GlobalStandard in japaneast: retired on 2027-04-15", output, StringComparison.Ordinal);
        Assert.Contains("6 check(s) failed", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task DeprecatedVersion_FailsAsClosedToNewCustomers(string shell)
    {
        // gpt-4o 2024-11-20 as the recorded regions list it: Deprecated, retiring 2026-10-01 (already past on 2026-12-05).
        _preflight.Values["PREFLIGHT_NOW"] = "2026-09-01";
        foreach (var region in new[] { "eastus2", "swedencentral", "japaneast" })
        {
            var models = _preflight.Answer($"models-{region}.json");
            foreach (var entry in models.AsArray().Where(m => m!["model"]!["name"]!.GetValue<string>() == "gpt-4o"))
            {
                entry!["model"]!["name"] = "gpt-5.1";
                entry["model"]!["version"] = "2025-08-07";
                entry["model"]!["skus"]![0]!["usageName"] = "OpenAI.GlobalStandard.gpt-5.1";
            }

            _preflight.Record($"models-{region}.json", models);
        }

        _preflight.Values["AOAI_GPT_4O_VERSION"] = "2025-08-07";

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  aoai-japaneast/gpt-4o: gpt-5.1 2025-08-07 GlobalStandard in japaneast: Deprecated, closed to subscriptions that never deployed it (ServiceModelDeprecating)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task VersionTheRegionDoesNotOffer_FailsWithTheVersionsItOffers(string shell)
    {
        _preflight.Values["AOAI_GPT_4O_VERSION"] = "2024-11-20";

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  aoai-eastus2/gpt-4o: gpt-5.1 2024-11-20 GlobalStandard in eastus2: the region does not offer this model version to this subscription", output, StringComparison.Ordinal);
        Assert.Contains("versions of gpt-5.1 it offers: 2025-11-13", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task SkuTheRegionDoesNotOffer_Fails_AsStandardEmbeddingsInSwedenCentralWould(string shell)
    {
        var models = _preflight.Answer("models-swedencentral.json");
        var embeddings = models.AsArray().Single(m => m!["model"]!["name"]!.GetValue<string>() == "text-embedding-3-small")!;
        embeddings["model"]!["skus"]![0]!["name"] = "Standard";
        _preflight.Record("models-swedencentral.json", models);

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  aoai-swedencentral/text-embedding-3-small: text-embedding-3-small 1 GlobalStandard in swedencentral: the region offers this version, but not as GlobalStandard", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task NoQuota_FailsWithWhatIsAskedWhatIsFree_AndWhichSettingAsks(string shell)
    {
        var usage = _preflight.Answer("usage-eastus2.json");
        usage.AsArray().Single(u => u!["name"]!["value"]!.GetValue<string>() == "OpenAI.GlobalStandard.gpt-5.1")!["currentValue"] = 900.0;
        _preflight.Record("usage-eastus2.json", usage);

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  quota OpenAI.GlobalStandard.gpt-5.1 in eastus2: 150 thousand tokens per minute asked, 100 free (InsufficientQuota ahead)", output, StringComparison.Ordinal);
        Assert.Contains("asked by aoai-eastus2/gpt-4o (AOAI_GPT_4O_CAPACITY)", output, StringComparison.Ordinal);
        Assert.Contains("1 check(s) failed", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task Quota_ACapacitySetForTheEnvironment_IsWhatIsChecked(string shell)
    {
        var usage = _preflight.Answer("usage-eastus2.json");
        usage.AsArray().Single(u => u!["name"]!["value"]!.GetValue<string>() == "OpenAI.GlobalStandard.gpt-5.1")!["currentValue"] = 900.0;
        _preflight.Record("usage-eastus2.json", usage);
        _preflight.Values["AOAI_GPT_4O_CAPACITY"] = "50";

        var (exitCode, output) = await RunAsync(shell);

        Assert.True(exitCode == 0, output);
        Assert.Contains("ok    quota OpenAI.GlobalStandard.gpt-5.1 in eastus2: 50 of 100", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task Quota_CapacityTheEnvironmentAlreadyHolds_IsNotAskedAgain(string shell)
    {
        // A second azd up: the account exists with its deployment, whose 150 already count in the region's usage.
        var usage = _preflight.Answer("usage-eastus2.json");
        usage.AsArray().Single(u => u!["name"]!["value"]!.GetValue<string>() == "OpenAI.GlobalStandard.gpt-5.1")!["currentValue"] = 1000.0;
        _preflight.Record("usage-eastus2.json", usage);
        _preflight.Record("deployments-aoai-eastus2.json", JsonNode.Parse("""
            [ { "name": "gpt-4o", "sku": { "name": "GlobalStandard", "capacity": 150 },
                "properties": { "model": { "format": "OpenAI", "name": "gpt-5.1", "version": "2025-11-13" }, "provisioningState": "Succeeded" } } ]
            """)!);

        var (exitCode, output) = await RunAsync(shell);

        Assert.True(exitCode == 0, output);
        Assert.Contains("ok    quota OpenAI.GlobalStandard.gpt-5.1 in eastus2: 0 of 0", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task SoftDeletedApiManagement_WithThisEnvironmentsName_FailsWithThePurgeCommand(string shell)
    {
        var name = $"apim-{template.ResourceToken}";
        _preflight.Record("apim-deleted.json", JsonNode.Parse($$"""
            [ { "deletionDate": "2026-12-04T09:30:00.0000000Z", "id": "/subscriptions/{{TemplateSnapshot.SubscriptionId}}/providers/Microsoft.ApiManagement/locations/eastus2/deletedservices/{{name}}",
                "location": "East US 2", "name": "{{name}}", "scheduledPurgeDate": "2027-01-03T09:30:00.0000000Z",
                "serviceId": "/subscriptions/{{TemplateSnapshot.SubscriptionId}}/resourceGroups/rg-{{Preflight.Environment}}/providers/Microsoft.ApiManagement/service/{{name}}",
                "type": "Microsoft.ApiManagement/deletedservices" } ]
            """)!);

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains($"FAIL  a soft-deleted API Management service '{name}' (East US 2) holds this environment's name (ServiceAlreadyExistsInSoftDeletedState)", output, StringComparison.Ordinal);
        Assert.Contains($"az apim deletedservice purge --service-name {name} --location \"East US 2\" --subscription {TemplateSnapshot.SubscriptionId}", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task SoftDeletedAccount_InThisEnvironmentsResourceGroup_FailsWithThePurgeCommand(string shell)
    {
        _preflight.Record("accounts-deleted.json", JsonNode.Parse($$"""
            [ { "etag": "\"0a00b1c2-0000-0d00-0000-6751a2b30000\"",
                "id": "/subscriptions/{{TemplateSnapshot.SubscriptionId}}/providers/Microsoft.CognitiveServices/locations/japaneast/resourceGroups/rg-{{Preflight.Environment}}/deletedAccounts/aoai-japaneast",
                "kind": "OpenAI", "location": "japaneast", "name": "aoai-japaneast",
                "properties": { "customSubDomainName": "aoai-japaneast-{{template.ResourceToken}}", "deletionDate": "2026-12-04T09:31:00Z", "scheduledPurgeDate": "2027-01-03T09:31:00Z" },
                "sku": { "name": "S0" }, "type": "Microsoft.CognitiveServices/accounts" } ]
            """)!);

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  a soft-deleted Cognitive Services account 'aoai-japaneast' (japaneast) holds 'aoai-japaneast' or its subdomain", output, StringComparison.Ordinal);
        Assert.Contains($"az cognitiveservices account purge --name aoai-japaneast --resource-group rg-{Preflight.Environment} --location \"japaneast\" --subscription {TemplateSnapshot.SubscriptionId}", output, StringComparison.Ordinal);
        Assert.Contains("ok    no soft-deleted account holds 'aoai-eastus2'", output, StringComparison.Ordinal);
        Assert.Contains("ok    no soft-deleted account holds 'contentsafety-eastus2'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task SoftDeletedAccount_OfAnotherEnvironment_BlocksNothing(string shell)
    {
        _preflight.Record("accounts-deleted.json", JsonNode.Parse($$"""
            [ { "id": "/subscriptions/{{TemplateSnapshot.SubscriptionId}}/providers/Microsoft.CognitiveServices/locations/japaneast/resourceGroups/rg-other/deletedAccounts/aoai-japaneast",
                "kind": "OpenAI", "location": "japaneast", "name": "aoai-japaneast",
                "properties": { "customSubDomainName": "aoai-japaneast-0ther0token00" }, "type": "Microsoft.CognitiveServices/accounts" } ]
            """)!);

        var (exitCode, output) = await RunAsync(shell);

        Assert.True(exitCode == 0, output);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task MissingPermission_ContributorOnly_FailsNamingTheRolesThatWould(string shell)
    {
        var assignments = _preflight.Answer("role-assignments.json").AsArray();
        var contributorOnly = new JsonArray(assignments.Where(a => a!["roleDefinitionName"]!.GetValue<string>() == "Contributor").Select(a => a!.DeepClone()).ToArray());
        _preflight.Record("role-assignments.json", contributorOnly);

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains($"FAIL  dev@contoso.example cannot create role assignments on subscription {TemplateSnapshot.SubscriptionId} (AuthorizationFailed ahead)", output, StringComparison.Ordinal);
        Assert.Contains("ask for Owner, User Access Administrator or Role Based Access Control Administrator on the subscription", output, StringComparison.Ordinal);
        Assert.Contains(_preflight.Calls, c => c.StartsWith($"role assignment list --assignee {Preflight.Principal} --scope /subscriptions/{TemplateSnapshot.SubscriptionId} --include-inherited --include-groups", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task Permission_FromAManagementGroup_Counts(string shell)
    {
        var assignments = _preflight.Answer("role-assignments.json").AsArray();
        var inherited = new JsonArray(assignments.Select(a => a!.DeepClone()).ToArray());
        inherited.Single(a => a!["roleDefinitionName"]!.GetValue<string>() == "User Access Administrator")!["scope"] = "/providers/Microsoft.Management/managementGroups/contoso";
        _preflight.Record("role-assignments.json", inherited);

        var (exitCode, output) = await RunAsync(shell);

        Assert.True(exitCode == 0, output);
    }

    [Theory]
    [InlineData(Sh, "PremiumV2", "1", "swedencentral", "API Management PremiumV2 is not offered in swedencentral")]
    [InlineData(Sh, "StandardV2", "11", "eastus2", "APIM_SKU_CAPACITY '11' is not a number of units StandardV2 allows")]
    [InlineData(Sh, "PremiumV2", "31", "eastus2", "APIM_SKU_CAPACITY '31' is not a number of units PremiumV2 allows")]
    [InlineData(Sh, "Developer", "1", "eastus2", "APIM_SKU 'Developer' is not a v2 tier")]
    [InlineData(Pwsh, "PremiumV2", "1", "swedencentral", "API Management PremiumV2 is not offered in swedencentral")]
    [InlineData(Pwsh, "StandardV2", "11", "eastus2", "APIM_SKU_CAPACITY '11' is not a number of units StandardV2 allows")]
    [InlineData(Pwsh, "Developer", "1", "eastus2", "APIM_SKU 'Developer' is not a v2 tier")]
    public async Task ApiManagement_TierOrUnitsTheRegionDoesNotAllow_Fail(string shell, string sku, string units, string location, string failure)
    {
        _preflight.Values["APIM_SKU"] = sku;
        _preflight.Values["APIM_SKU_CAPACITY"] = units;
        _preflight.Values["AZURE_LOCATION"] = location;

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("FAIL  " + failure, output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task NotLoggedIn_StopsAtOnce_SayingToLogIn(string shell)
    {
        _preflight.Forget("account-show.json");

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(1, exitCode);
        Assert.Contains("log in with 'az login'", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Sh)]
    [InlineData(Pwsh)]
    public async Task Skip_RunsNoCheck(string shell)
    {
        _preflight.Values["PREFLIGHT_SKIP"] = "true";

        var (exitCode, output) = await RunAsync(shell);

        Assert.Equal(0, exitCode);
        Assert.Contains("skipped", output, StringComparison.Ordinal);
        Assert.Empty(_preflight.Calls);
    }

    public void Dispose() => _preflight.Dispose();

    /// <summary>The POSIX preflight under sh, or its PowerShell twin in a hosted PowerShell.</summary>
    private Task<(int ExitCode, string Output)> RunAsync(string shell) => shell == Sh
        ? _preflight.RunAsync("sh", "infra/hooks/preprovision.sh")
        : _preflight.RunPowerShellAsync("infra/hooks/preprovision.ps1");
}
