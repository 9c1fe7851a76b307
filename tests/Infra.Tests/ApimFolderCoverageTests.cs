using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>
/// Bicep cannot list a folder, so main.bicep names each file of apim/ it loads. These tests walk apim/ itself: a
/// policy, fragment, operation policy, product, API, backend, named value or subscription added there and not to the
/// template fails the build.
/// </summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class ApimFolderCoverageTests(InfraTemplate template)
{
    [Fact]
    public void Template_DeploysEveryFileOfApim_TextsCharacterForCharacter()
    {
        var (artefacts, _) = ApimArtefact.Read(InfraTemplate.ApimPath);
        var missing = ApimArtefact.Missing(InfraTemplate.ApimPath, template.Snapshot);

        Assert.True(missing.Count == 0, "apim/ has what the template does not deploy:" + Environment.NewLine + string.Join(Environment.NewLine, missing));

        // Today's apim/: 10 backends, 4 named values, 2 subscriptions, the API (api.json and openapi.json), its policy and
        // the policy's 6 fragments.
        Assert.Equal(25, artefacts.Count);
        Assert.Equal(8, artefacts.Count(a => a.Value is not null));
    }

    [Fact]
    public void Coverage_FilesTheTemplateDoesNotDeploy_AreEachReported()
    {
        var apim = CopyOfApim();
        try
        {

            Write(apim, "fragments/select-backend.xml", "<fragment><set-backend-service backend-id=\"gpt-4o-pool\" /></fragment>");
            Write(apim, "apis/azure-openai/operations/Embeddings_Create.xml", "<policies><inbound><base /></inbound></policies>");
            Write(apim, "global-policy.xml", "<policies><backend><forward-request /></backend></policies>");
            Write(apim, "products/starter/product.json", """{ "id": "starter", "displayName": "Starter", "apis": [ "azure-openai" ], "policy": "policy.xml" }""");
            Write(apim, "products/starter/policy.xml", "<policies><inbound><base /></inbound></policies>");
            Write(apim, "notes.txt", "not an artefact");

            var missing = ApimArtefact.Missing(apim, template.Snapshot);

            Assert.Equal(
                [
                    "apis/azure-openai/operations/Embeddings_Create.xml: the template deploys no Microsoft.ApiManagement/service/apis/operations/policies named azure-openai/Embeddings_Create/policy",
                    "fragments/select-backend.xml: the template deploys no Microsoft.ApiManagement/service/policyFragments named select-backend",
                    "global-policy.xml: the template deploys no Microsoft.ApiManagement/service/policies named policy",
                    "notes.txt: no rule says how this file is deployed",
                    "products/starter/policy.xml: the template deploys no Microsoft.ApiManagement/service/products/policies named starter/policy",
                    "products/starter/product.json: the template deploys no Microsoft.ApiManagement/service/products named starter",
                    "products/starter/product.json: the template deploys no Microsoft.ApiManagement/service/products/apis named starter/azure-openai",
                ],
                missing.Order(StringComparer.Ordinal));
        }
        finally
        {
            Directory.Delete(apim, recursive: true);
        }
    }

    [Fact]
    public void Coverage_APolicyThatDiffersFromItsFile_IsReportedWithWhereItDiffers()
    {
        var apim = CopyOfApim();
        try
        {

            var policy = Path.Combine(apim, "apis", "azure-openai", "policy.xml");
            var text = File.ReadAllText(policy);
            File.WriteAllText(policy, text.Replace("<policies>", "<policies >", StringComparison.Ordinal));

            var problem = Assert.Single(ApimArtefact.Missing(apim, template.Snapshot));

            Assert.StartsWith("apis/azure-openai/policy.xml: Microsoft.ApiManagement/service/apis/policies azure-openai/policy differs from the file at character " + (text.IndexOf("<policies>", StringComparison.Ordinal) + "<policies".Length), problem, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(apim, recursive: true);
        }
    }

    private static string CopyOfApim()
    {
        var apim = Directory.CreateTempSubdirectory("apim-coverage-").FullName;
        foreach (var file in Directory.GetFiles(InfraTemplate.ApimPath, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(apim, Path.GetRelativePath(InfraTemplate.ApimPath, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return apim;
    }

    private static void Write(string apim, string relativePath, string text)
    {
        var path = Path.Combine(apim, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }
}
