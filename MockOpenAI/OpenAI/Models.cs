using System.Globalization;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>
/// <c>GET /openai/v1/models</c> (and <c>/openai/models?api-version=</c>): the models the account can use, in Azure's
/// model shape, not its deployments. The mock knows only the models its deployments use, so it lists those, once each.
/// </summary>
internal static class Models
{
    /// <summary>Azure retires a GA model version no earlier than a year after its release; the mock dates deprecation so.</summary>
    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(365);

    /// <param name="deployments">The account's deployments.</param>
    /// <param name="undated">The <c>created_at</c> of a model whose version is not a date (the mock's start).</param>
    public static string List(IEnumerable<DeploymentOptions> deployments, DateTimeOffset undated) => new JsonObject
    {
        ["data"] = new JsonArray([.. deployments
            .GroupBy(d => d.Model, StringComparer.OrdinalIgnoreCase)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (JsonNode)Model(g.First(), Created(g, undated)))]),
        ["object"] = "list",
    }.ToJsonString(MockJson.Options);

    private static JsonObject Model(DeploymentOptions deployment, DateTimeOffset created) => new()
    {
        ["status"] = "succeeded",
        ["capabilities"] = new JsonObject
        {
            ["fine_tune"] = false,
            ["inference"] = true,
            ["completion"] = deployment.Supports(InferenceOperation.Completions),
            ["chat_completion"] = deployment.Supports(InferenceOperation.ChatCompletions),
            ["embeddings"] = deployment.Supports(InferenceOperation.Embeddings),
        },
        ["lifecycle_status"] = "generally-available",
        ["deprecation"] = new JsonObject { ["inference"] = (created + Lifetime).ToUnixTimeSeconds() },
        ["id"] = deployment.Model,
        ["created_at"] = created.ToUnixTimeSeconds(),
        ["object"] = "model",
    };

    /// <summary>The earliest version date among the deployments of the model (versions such as <c>2024-11-20</c>).</summary>
    private static DateTimeOffset Created(IEnumerable<DeploymentOptions> deployments, DateTimeOffset undated) =>
        deployments
            .Select(d => DateTimeOffset.TryParseExact(d.Version, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date) ? date : (DateTimeOffset?)null)
            .Where(d => d is not null)
            .Select(d => d!.Value)
            .DefaultIfEmpty(undated)
            .Min();
}
