using System.Reflection;
using Gateway.Apim;

namespace Gateway.Tests.Support;

/// <summary>
/// A throw-away copy of the repository's apim/ folder whose API policy a test can replace. The copy's backends have no
/// circuit breakers unless <c>withBreakers</c>: a test of retries or timeouts should not trip the shipped ones.
/// </summary>
internal sealed class TestApim : IDisposable
{
    public TestApim(string? apiPolicy = null, bool withBreakers = false)
    {
        Path = Directory.CreateTempSubdirectory("apim-test-").FullName;
        Copy(RepoApimPath, Path);
        if (!withBreakers)
        {
            var topologyPath = System.IO.Path.Combine(Path, "topology.json");
            var topology = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(topologyPath))!;
            foreach (var backend in topology["backends"]!.AsArray())
            {
                backend!.AsObject().Remove("circuitBreaker");
            }

            File.WriteAllText(topologyPath, topology.ToJsonString());
        }

        if (apiPolicy is not null)
        {
            File.WriteAllText(PolicyPath, apiPolicy);
        }
    }

    public static string RepoRoot { get; } = typeof(TestApim).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string RepoApimPath { get; } = System.IO.Path.Combine(RepoRoot, "apim");

    public string Path { get; }

    public string PolicyPath => System.IO.Path.Combine(Path, "apis", "azure-openai", "policy.xml");

    /// <summary>The API's OpenAPI definition: its operations.</summary>
    public string DefinitionPath => System.IO.Path.Combine(Path, "apis", "azure-openai", "openapi.json");

    /// <summary>Adds a POST operation to the API's definition.</summary>
    public void AddOperation(string urlTemplate, string operationId)
    {
        var definition = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(DefinitionPath))!;
        definition["paths"]![urlTemplate] = new System.Text.Json.Nodes.JsonObject { ["post"] = new System.Text.Json.Nodes.JsonObject { ["operationId"] = operationId } };
        File.WriteAllText(DefinitionPath, definition.ToJsonString());
    }

    public ApimOptions Options(Action<ApimOptions>? configure = null)
    {
        var options = new ApimOptions { Path = Path };
        options.NamedValues["managed-identity-client-id"] = "test-client-id";
        options.Subscriptions["chat-app"] = new SubscriptionKeyOptions { PrimaryKey = "primary-key-chat-app", SecondaryKey = "secondary-key-chat-app" };
        configure?.Invoke(options);
        return options;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);

    private static void Copy(string from, string to)
    {
        foreach (var directory in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(directory.Replace(from, to, StringComparison.Ordinal));
        }

        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
        }
    }
}
