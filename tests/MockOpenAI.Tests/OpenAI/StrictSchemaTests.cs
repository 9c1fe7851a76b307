using System.Text.Json;
using MockOpenAI.OpenAI;

namespace MockOpenAI.Tests.OpenAI;

public class StrictSchemaTests
{
    [Theory]
    [InlineData(
        """{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}""",
        "In context=(), 'additionalProperties' is required to be supplied and to be false.")]
    [InlineData(
        """{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":true}""",
        "In context=(), 'additionalProperties' is required to be supplied and to be false.")]
    [InlineData(
        """{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}""",
        "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.")]
    [InlineData(
        """{"type":"object","properties":{"a":{"type":"string"}},"additionalProperties":false}""",
        "In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'a'.")]
    [InlineData(
        """{"type":"object","properties":{"etymology":{"type":"object","properties":{}}},"required":["etymology"],"additionalProperties":false}""",
        "In context=('properties', 'etymology'), 'additionalProperties' is required to be supplied and to be false.")]
    [InlineData(
        """{"type":"object","properties":{"columns":{"type":"array","items":{"type":"object","properties":{"name":{"type":"string"},"alternatives":{"type":"string"}},"required":["name"],"additionalProperties":false}}},"required":["columns"],"additionalProperties":false}""",
        "In context=('properties', 'columns', 'items'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'alternatives'.")]
    [InlineData(
        """{"type":"object","properties":{"x":{"anyOf":[{"type":"string"},{"type":"object","properties":{}}]}},"required":["x"],"additionalProperties":false}""",
        "In context=('properties', 'x', 'anyOf', 1), 'additionalProperties' is required to be supplied and to be false.")]
    [InlineData(
        """{"type":"object","properties":{"p":{"$ref":"#/$defs/point"}},"required":["p"],"additionalProperties":false,"$defs":{"point":{"type":["object","null"],"properties":{"x":{"type":"number"}},"additionalProperties":false}}}""",
        "In context=('$defs', 'point'), 'required' is required to be supplied and to be an array including every key in properties. Missing 'x'.")]
    public void FirstViolation_BrokenRule_IsWordedAsTheServiceWordsIt(string schema, string expected)
    {
        using var document = JsonDocument.Parse(schema);

        Assert.Equal(expected, StrictSchema.FirstViolation(document.RootElement));
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string"},"b":{"type":["integer","null"]}},"required":["a","b"],"additionalProperties":false}""")]
    [InlineData("""{"type":"object","properties":{"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["next"],"additionalProperties":false}""")]
    [InlineData("""{"type":"object","properties":{},"additionalProperties":false}""")]
    public void FirstViolation_StrictSchema_IsNull(string schema)
    {
        using var document = JsonDocument.Parse(schema);

        Assert.Null(StrictSchema.FirstViolation(document.RootElement));
    }
}
