using System.Text.Json.Nodes;
using Json.Schema;

namespace MockOpenAI.Tests.Support;

/// <summary>Checks JSON against a JSON schema with an independent validator (JsonSchema.Net), formats included.</summary>
internal static class SchemaAssert
{
    public static void Valid(string schema, string json, string? what = null)
    {
        var results = JsonSchema.FromText(schema).Evaluate(
            JsonNode.Parse(json),
            new EvaluationOptions { OutputFormat = OutputFormat.List, RequireFormatValidation = true });

        var errors = results.Details.Where(d => d.Errors is not null).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Key} {e.Value}"));
        Assert.True(results.IsValid, $"{what} {json}\ndoes not validate against\n{schema}\n{string.Join('\n', errors)}");
    }
}
