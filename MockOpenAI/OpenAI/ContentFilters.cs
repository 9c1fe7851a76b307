using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>Azure's content-filter annotations: this mock never filters, so every category is safe.</summary>
internal static class ContentFilters
{
    public static JsonObject Safe() => new()
    {
        ["hate"] = Category(),
        ["self_harm"] = Category(),
        ["sexual"] = Category(),
        ["violence"] = Category(),
    };

    public static JsonArray PromptResults() => new(new JsonObject { ["prompt_index"] = 0, ["content_filter_results"] = Safe() });

    private static JsonObject Category() => new() { ["filtered"] = false, ["severity"] = "safe" };
}
