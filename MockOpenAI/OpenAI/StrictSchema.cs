using System.Globalization;
using System.Text.Json;

namespace MockOpenAI.OpenAI;

/// <summary>
/// The two rules of OpenAI's strict mode that callers break most, checked as the service words them (sources in
/// docs/fidelity.md): every object sets <c>additionalProperties: false</c>, and its <c>required</c> lists every key of
/// its <c>properties</c>. The other limits of strict mode (sizes, nesting, unsupported keywords) are not checked.
/// </summary>
internal static class StrictSchema
{
    /// <summary>
    /// The first rule the schema breaks, as the text after <c>Invalid schema for ...: </c>, or null. Objects are
    /// visited depth first: the object itself, then its properties in order, <c>items</c>, the branches of
    /// <c>anyOf</c>, then <c>$defs</c> and <c>definitions</c>.
    /// </summary>
    public static string? FirstViolation(JsonElement schema) => Visit(schema, []);

    private static string? Visit(JsonElement schema, List<object> context)
    {
        if (schema.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (IsObject(schema))
        {
            if (!schema.TryGetProperty("additionalProperties", out var additional) || additional.ValueKind != JsonValueKind.False)
            {
                return $"In context={Context(context)}, 'additionalProperties' is required to be supplied and to be false.";
            }

            if (schema.TryGetProperty("properties", out var declared) && declared.ValueKind == JsonValueKind.Object)
            {
                var required = schema.TryGetProperty("required", out var r) && r.ValueKind == JsonValueKind.Array
                    ? r.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).ToHashSet(StringComparer.Ordinal)
                    : [];
                if (declared.EnumerateObject().Select(p => p.Name).FirstOrDefault(name => !required.Contains(name)) is { } missing)
                {
                    return $"In context={Context(context)}, 'required' is required to be supplied and to be an array including every key in properties. Missing '{missing}'.";
                }
            }
        }

        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                if (Visit(property.Value, [.. context, "properties", property.Name]) is { } found)
                {
                    return found;
                }
            }
        }

        if (schema.TryGetProperty("items", out var items) && Visit(items, [.. context, "items"]) is { } inItems)
        {
            return inItems;
        }

        if (schema.TryGetProperty("anyOf", out var anyOf) && anyOf.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var branch in anyOf.EnumerateArray())
            {
                if (Visit(branch, [.. context, "anyOf", index++]) is { } inBranch)
                {
                    return inBranch;
                }
            }
        }

        foreach (var keyword in (ReadOnlySpan<string>)["$defs", "definitions"])
        {
            if (schema.TryGetProperty(keyword, out var definitions) && definitions.ValueKind == JsonValueKind.Object)
            {
                foreach (var definition in definitions.EnumerateObject())
                {
                    if (Visit(definition.Value, [.. context, keyword, definition.Name]) is { } inDefinition)
                    {
                        return inDefinition;
                    }
                }
            }
        }

        return null;
    }

    private static bool IsObject(JsonElement schema) => schema.TryGetProperty("type", out var type) && type.ValueKind switch
    {
        JsonValueKind.String => type.GetString() == "object",
        JsonValueKind.Array => type.EnumerateArray().Any(t => t.ValueKind == JsonValueKind.String && t.GetString() == "object"),
        _ => false,
    };

    /// <summary>The path to the schema as the service prints it: a Python tuple, <c>()</c> or <c>('properties', 'a', 'items')</c>.</summary>
    private static string Context(List<object> path) => path.Count switch
    {
        0 => "()",
        1 => $"({Item(path[0])},)",
        _ => $"({string.Join(", ", path.Select(Item))})",
    };

    private static string Item(object part) => part is int index ? index.ToString(CultureInfo.InvariantCulture) : $"'{part}'";
}
