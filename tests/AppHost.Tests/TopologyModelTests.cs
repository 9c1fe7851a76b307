using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace AppHost.Tests;

/// <summary>
/// The topology decides everything: the AppHost's model (built, never started) for a copy of apim/ with a fourth Azure
/// OpenAI account and a second Content Safety account has a fourth Azure OpenAI mock with every dashboard command and a
/// second Content Safety mock, and the gateway gets every backend's URL at its account's mock: its pools have four
/// members, the Content Safety backends reach their accounts, and embeddings-backend keeps its whole embeddings path.
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class TopologyModelTests : IDisposable
{
    private const string Fourth = "aoai-westus3";
    private const string SecondContentSafety = "contentsafety-swedencentral";
    private const string SecondContentSafetyBackend = "content-safety-sweden";
    private static readonly string[] MockCommands = ["mock-throttle", "mock-fail", "mock-hang", "mock-reset-connections", "mock-slow", "mock-recover"];
    private readonly string _apim = Path.Combine(Path.GetTempPath(), "apim-four-accounts-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task AppHost_TopologyWithAFourthAccountAndASecondContentSafetyAccount_HasAMockForEach_AndEveryBackendAtItsMock()
    {
        CopyWithMoreAccounts();
        using var cancellation = new CancellationTokenSource(LoadBalancedAppFixture.Timeout);
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--Apim:Path=" + _apim, "--Parameters:mock-admin-password=model-only", "--Parameters:gateway-admin-key=model-only"],
            cancellation.Token);

        var topology = JsonNode.Parse(File.ReadAllText(Path.Combine(_apim, "topology.json")))!;
        var accounts = topology["accounts"]!.AsArray().Select(a => (string)a!["name"]!).ToArray();
        var contentSafetyAccounts = topology["contentSafetyAccounts"]!.AsArray().Select(a => (string)a!["name"]!).ToArray();
        var projects = builder.Resources.OfType<ProjectResource>().ToDictionary(r => r.Name);
        Assert.Equal(4, accounts.Length);
        Assert.Equal(2, contentSafetyAccounts.Length);
        foreach (var account in accounts)
        {
            Assert.True(projects.TryGetValue(account, out var mock), $"no mock resource for {account}");
            var commands = mock.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name).ToArray();
            Assert.All(MockCommands, command => Assert.Contains(command, commands));
        }

        foreach (var account in contentSafetyAccounts)
        {
            Assert.True(projects.TryGetValue(account, out var mock), $"no mock resource for {account}");
            Assert.NotEmpty(mock.Annotations.OfType<HealthCheckAnnotation>());
            Assert.DoesNotContain(mock.Annotations.OfType<ResourceCommandAnnotation>(), c => MockCommands.Contains(c.Name));
        }

        // The mocks, the gateway and the traffic generator: nothing else.
        Assert.Equal(accounts.Length + contentSafetyAccounts.Length + 2, projects.Count);
        Assert.Contains("traffic", projects.Keys);
        var gateway = projects["gateway"];
        Assert.Contains("gateway-reset", gateway.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name));
        Assert.Contains("gateway-state", gateway.Annotations.OfType<ResourceCommandAnnotation>().Select(c => c.Name));

        // Every member of every pool is a backend whose URL the gateway gets, pointing at its account's mock.
        // In publish mode an endpoint becomes its manifest expression ({account.bindings.http.url}): no process, no port.
        var configuration = await ExecutionConfigurationBuilder.Create(gateway).WithEnvironmentVariablesConfig()
            .BuildAsync(new DistributedApplicationExecutionContext(DistributedApplicationOperation.Publish), NullLogger.Instance, cancellation.Token)
            .WaitAsync(cancellation.Token);
        var environment = configuration.EnvironmentVariables.ToDictionary(v => v.Key, v => v.Value);
        var backends = topology["backends"]!.AsArray().ToDictionary(b => (string)b!["id"]!, b => b!);
        foreach (var pool in backends.Values.Where(b => b["pool"] is not null))
        {
            var members = pool["pool"]!["services"]!.AsArray().Select(s => (string)s!["id"]!).ToArray();
            Assert.Equal(4, members.Length);
            foreach (var member in members)
            {
                Assert.True(environment.TryGetValue($"Apim__Backends__{member}__Url", out var url), $"the gateway gets no URL for {member}");
                Assert.Contains((string)backends[member]["account"]!, url, StringComparison.Ordinal);
            }
        }

        // Every single backend, the Content Safety ones and the embeddings address included, reaches its account's mock.
        Assert.Equal(
            [("content-safety-backend", "contentsafety-eastus2"), (SecondContentSafetyBackend, SecondContentSafety)],
            backends.Values.Where(b => b["contentSafetyAccount"] is not null).Select(b => ((string)b["id"]!, (string)b["contentSafetyAccount"]!)));
        foreach (var (id, backend) in backends.Where(b => b.Value["pool"] is null))
        {
            Assert.True(environment.TryGetValue($"Apim__Backends__{id}__Url", out var url), $"the gateway gets no URL for {id}");
            var account = (string?)backend["account"] ?? (string)backend["contentSafetyAccount"]!;
            Assert.Equal($"{{{account}.bindings.http.url}}{new Uri((string)backend["url"]!).AbsolutePath.TrimEnd('/')}", url);
        }

        Assert.EndsWith("/openai/deployments/text-embedding-3-small/embeddings", environment["Apim__Backends__embeddings-backend__Url"], StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (Directory.Exists(_apim))
        {
            Directory.Delete(_apim, recursive: true);
        }
    }

    /// <summary>
    /// Copies apim/ and adds <see cref="Fourth"/> to its topology (the account, a backend per deployment, and a member in
    /// each pool) and <see cref="SecondContentSafety"/> with a backend of its own.
    /// </summary>
    private void CopyWithMoreAccounts()
    {
        foreach (var file in Directory.GetFiles(LoadBalancedAppFixture.ApimPath, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_apim, Path.GetRelativePath(LoadBalancedAppFixture.ApimPath, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        var path = Path.Combine(_apim, "topology.json");
        var topology = JsonNode.Parse(File.ReadAllText(path))!;
        var template = topology["accounts"]![0]!;
        var account = template.DeepClone();
        account["name"] = Fourth;
        account["region"] = "westus3";
        account["customSubDomain"] = Fourth + "-RESOURCE-TOKEN";
        topology["accounts"]!.AsArray().Add(account);

        var backends = topology["backends"]!.AsArray();
        foreach (var deployment in account["deployments"]!.AsArray().Select(d => (string)d!["name"]!))
        {
            var model = backends.Single(b => (string?)b!["id"] == $"{template["name"]}-{deployment}")!;
            var backend = model.DeepClone();
            backend["id"] = $"{Fourth}-{deployment}";
            backend["account"] = Fourth;
            backend["url"] = $"https://{Fourth}-RESOURCE-TOKEN.openai.azure.com/openai";
            backend["description"] = $"{deployment} in Azure OpenAI westus3";
            backends.Add(backend);
            var pool = backends.Single(b => b!["pool"] is not null && (string)b["id"]! == deployment + "-pool")!;
            pool["pool"]!["services"]!.AsArray().Add(new JsonObject { ["id"] = $"{Fourth}-{deployment}", ["priority"] = 3, ["weight"] = 1 });
        }

        topology["contentSafetyAccounts"]!.AsArray().Add(new JsonObject
        {
            ["name"] = SecondContentSafety,
            ["region"] = "swedencentral",
            ["customSubDomain"] = SecondContentSafety + "-RESOURCE-TOKEN",
        });
        var shipped = backends.Single(b => (string?)b!["id"] == "content-safety-backend")!;
        var second = shipped.DeepClone();
        second["id"] = SecondContentSafetyBackend;
        second["contentSafetyAccount"] = SecondContentSafety;
        second["url"] = $"https://{SecondContentSafety}-RESOURCE-TOKEN.cognitiveservices.azure.com";
        backends.Add(second);

        File.WriteAllText(path, topology.ToJsonString());
    }
}
