using System.Text.Json.Nodes;
using Gateway.Apim.Model;

namespace Gateway.Tests.Support;

/// <summary>Adds backend entities (JSON, as <c>apim/topology.json</c> writes them) to a test copy of the topology.</summary>
internal static class TestTopology
{
    public static void AddBackends(TestApim apim, params string[] backends)
    {
        var path = Path.Combine(apim.Path, Topology.FileName);
        var topology = JsonNode.Parse(File.ReadAllText(path))!;
        var list = topology["backends"]!.AsArray();
        foreach (var backend in backends)
        {
            list.Add(JsonNode.Parse(backend));
        }

        File.WriteAllText(path, topology.ToJsonString());
    }

    /// <summary>
    /// Puts the test's own definition in place of the shipped backend of the same id (<c>content-safety-backend</c>, say),
    /// so that a test does not depend on what apim/ ships for it. A backend the topology does not have is a mistake.
    /// </summary>
    public static void ReplaceBackends(TestApim apim, params string[] backends)
    {
        var path = Path.Combine(apim.Path, Topology.FileName);
        var topology = JsonNode.Parse(File.ReadAllText(path))!;
        var list = topology["backends"]!.AsArray();
        foreach (var backend in backends)
        {
            var node = JsonNode.Parse(backend)!;
            var id = (string)node["id"]!;
            var shipped = list.SingleOrDefault(b => string.Equals((string?)b!["id"], id, StringComparison.OrdinalIgnoreCase))
                ?? throw new InvalidOperationException($"the topology has no backend '{id}' to replace");
            list[list.IndexOf(shipped)] = node;
        }

        File.WriteAllText(path, topology.ToJsonString());
    }

    /// <summary>A single backend of account aoai-eastus2 with one circuit-breaker rule.</summary>
    public static string Single(string id, string url, string condition, string tripDuration = "PT1M", bool acceptRetryAfter = false, string? deployment = null) => $$"""
        {
          "id": "{{id}}", "account": "aoai-eastus2", {{(deployment is null ? "" : $"\"deployment\": \"{deployment}\",")}} "url": "{{url}}", "protocol": "http",
          "circuitBreaker": { "rules": [ {
            "name": "{{id}}-breaker", "failureCondition": { {{condition}} },
            "tripDuration": "{{tripDuration}}", "acceptRetryAfter": {{(acceptRetryAfter ? "true" : "false")}} } ] }
        }
        """;

    /// <summary>A pool of (id, priority, weight) members.</summary>
    public static string Pool(string id, params (string Id, int Priority, int Weight)[] members) => $$"""
        { "id": "{{id}}", "type": "Pool", "pool": { "services": [ {{string.Join(", ", members.Select(m => $$"""{ "id": "{{m.Id}}", "priority": {{m.Priority}}, "weight": {{m.Weight}} }"""))}} ] } }
        """;

    /// <summary>A pool of (id, priority, weight) members whose sessions stay on one member, by the cookie <paramref name="cookie"/>.</summary>
    public static string PoolWithSessionAffinity(string id, string cookie, params (string Id, int Priority, int Weight)[] members) => $$"""
        { "id": "{{id}}", "type": "Pool", "pool": {
          "services": [ {{string.Join(", ", members.Select(m => $$"""{ "id": "{{m.Id}}", "priority": {{m.Priority}}, "weight": {{m.Weight}} }"""))}} ],
          "sessionAffinity": { "sessionId": { "source": "Cookie", "name": "{{cookie}}" } } } }
        """;
}
