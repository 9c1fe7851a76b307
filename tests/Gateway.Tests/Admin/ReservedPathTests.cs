using System.Text.Json.Nodes;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Tests.Support;

namespace Gateway.Tests.Admin;

/// <summary>No API can be served under <c>/_gateway/</c>, where the gateway's admin endpoints live.</summary>
public sealed class ReservedPathTests : IDisposable
{
    private readonly TestApim _apim = new();

    private string ApiFile => Path.Combine(_apim.Path, "apis", "azure-openai", ApiEntity.FileName);

    public void Dispose() => _apim.Dispose();

    [Theory]
    [InlineData("_gateway")]
    [InlineData("_gateway/openai")]
    [InlineData("/_Gateway/admin")]
    public void Load_ApiPathUnderTheAdminPrefix_IsRefused(string path)
    {
        SetApiPath(path);

        var ex = Assert.Throws<ApimArtifactException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.Contains(ApiFile, ex.Message, StringComparison.Ordinal);
        Assert.Contains("is under /_gateway/, which is reserved for the local gateway's own endpoints", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ApiAtTheRootWithAnOperationUnderTheAdminPrefix_IsRefused()
    {
        SetApiPath(string.Empty);
        _apim.AddOperation("/_gateway/admin/reset", "Shadowed_Reset");

        var ex = Assert.Throws<ApimArtifactException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.Contains("operation Shadowed_Reset (/_gateway/admin/reset) is under /_gateway/", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("_gateways")]
    [InlineData("gateway")]
    [InlineData("openai/_gateway")]
    public void Load_ApiPathOutsideTheAdminPrefix_IsAccepted(string path)
    {
        SetApiPath(path);

        using var artifacts = GatewayArtifacts.Load(_apim.Options());

        Assert.Equal(path, Assert.Single(artifacts.Router.Routes).Entity.Path);
    }

    private void SetApiPath(string path)
    {
        var api = JsonNode.Parse(File.ReadAllText(ApiFile))!;
        api["path"] = path;
        File.WriteAllText(ApiFile, api.ToJsonString());
    }
}
