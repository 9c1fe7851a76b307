using System.Text.Json;
using System.Text.Json.Nodes;
using MockOpenAI.OpenAI;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.OpenAI;

public class SchemaInstanceTests
{
    /// <summary>Schemas as callers send them in strict mode (and a few outside it), by what each exercises.</summary>
    public static TheoryData<string, string> Schemas => new()
    {
        {
            "scalars", """
            {"type":"object","properties":{"s":{"type":"string"},"n":{"type":"number"},"i":{"type":"integer"},"b":{"type":"boolean"},"z":{"type":"null"}},
             "required":["s","n","i","b","z"],"additionalProperties":false}
            """
        },
        {
            "nested objects", """
            {"type":"object","properties":{
              "customer":{"type":"object","properties":{"name":{"type":"string"},"address":{"type":"object","properties":{"city":{"type":"string"},"zip":{"type":"string"}},"required":["city","zip"],"additionalProperties":false}},"required":["name","address"],"additionalProperties":false},
              "total":{"type":"number"}},
             "required":["customer","total"],"additionalProperties":false}
            """
        },
        {
            "arrays", """
            {"type":"object","properties":{
              "tags":{"type":"array","items":{"type":"string"}},
              "exactly2":{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":2},
              "atLeast4":{"type":"array","items":{"type":"boolean"},"minItems":4},
              "atMost1":{"type":"array","items":{"type":"number"},"maxItems":1},
              "none":{"type":"array","items":{"type":"string"},"maxItems":0},
              "rows":{"type":"array","items":{"type":"object","properties":{"k":{"type":"string"},"v":{"type":"integer"}},"required":["k","v"],"additionalProperties":false}}},
             "required":["tags","exactly2","atLeast4","atMost1","none","rows"],"additionalProperties":false}
            """
        },
        {
            "enum and const", """
            {"type":"object","properties":{
              "unit":{"type":"string","enum":["celsius","fahrenheit"]},
              "level":{"type":"integer","enum":[1,2,3]},
              "mixed":{"enum":["a",1,null,true]},
              "kind":{"const":"event"},
              "flags":{"type":"array","items":{"type":"string","enum":["x","y"]}}},
             "required":["unit","level","mixed","kind","flags"],"additionalProperties":false}
            """
        },
        {
            "$defs references", """
            {"type":"object","properties":{"start":{"$ref":"#/$defs/point"},"end":{"$ref":"#/$defs/point"},"path":{"type":"array","items":{"$ref":"#/$defs/point"}}},
             "required":["start","end","path"],"additionalProperties":false,
             "$defs":{"point":{"type":"object","properties":{"x":{"type":"number"},"y":{"type":"number"},"label":{"$ref":"#/$defs/label"}},"required":["x","y","label"],"additionalProperties":false},
                      "label":{"type":"string","enum":["origin","waypoint"]}}}
            """
        },
        {
            "definitions references", """
            {"type":"object","properties":{"owner":{"$ref":"#/definitions/person"}},"required":["owner"],"additionalProperties":false,
             "definitions":{"person":{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false}}}
            """
        },
        {
            "anyOf", """
            {"type":"object","properties":{"item":{"anyOf":[
                {"type":"object","properties":{"kind":{"const":"book"},"isbn":{"type":"string"}},"required":["kind","isbn"],"additionalProperties":false},
                {"type":"object","properties":{"kind":{"const":"film"},"minutes":{"type":"integer","minimum":1}},"required":["kind","minutes"],"additionalProperties":false},
                {"type":"string"}]},
              "maybe":{"anyOf":[{"type":"string"},{"type":"null"}]}},
             "required":["item","maybe"],"additionalProperties":false}
            """
        },
        {
            "nullable types", """
            {"type":"object","properties":{"note":{"type":["string","null"]},"count":{"type":["integer","null"],"minimum":5,"maximum":6},
              "child":{"type":["object","null"],"properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}},
             "required":["note","count","child"],"additionalProperties":false}
            """
        },
        {
            "recursion through #", """
            {"type":"object","properties":{"value":{"type":"string"},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["value","next"],"additionalProperties":false}
            """
        },
        {
            "recursion through $defs", """
            {"type":"object","properties":{"root":{"$ref":"#/$defs/node"}},"required":["root"],"additionalProperties":false,
             "$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name","children"],"additionalProperties":false}}}
            """
        },
        {
            "formats", """
            {"type":"object","properties":{"at":{"type":"string","format":"date-time"},"on":{"type":"string","format":"date"},"clock":{"type":"string","format":"time"},
              "mail":{"type":"string","format":"email"},"id":{"type":"string","format":"uuid"},"site":{"type":"string","format":"uri"},
              "host":{"type":"string","format":"hostname"},"ip":{"type":"string","format":"ipv4"},"wait":{"type":"string","format":"duration"}},
             "required":["at","on","clock","mail","id","site","host","ip","wait"],"additionalProperties":false}
            """
        },
        {
            "numeric bounds", """
            {"type":"object","properties":{
              "pct":{"type":"number","minimum":0,"maximum":1},
              "open":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":0.05},
              "year":{"type":"integer","minimum":1900,"maximum":2100},
              "negative":{"type":"integer","maximum":-10},
              "above":{"type":"integer","exclusiveMinimum":1000},
              "even":{"type":"integer","minimum":3,"maximum":9,"multipleOf":2},
              "point":{"type":"integer","minimum":7,"maximum":7}},
             "required":["pct","open","year","negative","above","even","point"],"additionalProperties":false}
            """
        },
        {
            "string lengths", """
            {"type":"object","properties":{"code":{"type":"string","minLength":3,"maxLength":3},"long":{"type":"string","minLength":40},"short":{"type":"string","maxLength":2},"pat":{"type":"string","pattern":".*"}},
             "required":["code","long","short","pat"],"additionalProperties":false}
            """
        },
        {
            "without type (non-strict)", """
            {"properties":{"any":{},"list":{"items":{"type":"integer"}}},"required":["any","list","extra"]}
            """
        },
    };

    [Theory]
    [MemberData(nameof(Schemas))]
    public void Generate_SchemaOfTheTable_ValidatesForEverySeed(string name, string schema)
    {
        using var document = JsonDocument.Parse(schema);

        for (var seed = 0; seed < 25; seed++)
        {
            var json = SchemaInstance.Generate(document.RootElement, seed)!.ToJsonString();

            SchemaAssert.Valid(schema, json, $"{name}, seed {seed}:");
        }
    }

    [Theory]
    [InlineData("""{"a":"x","extra":1}""")]
    [InlineData("""{}""")]
    [InlineData("""{"a":"not-a-date"}""")]
    public void Validator_ValueBreakingTheSchema_IsRejected(string json)
    {
        // The oracle the table relies on must fail on what the generator must never produce.
        const string schema = """{"type":"object","properties":{"a":{"type":"string","format":"date"}},"required":["a"],"additionalProperties":false}""";

        Assert.ThrowsAny<Xunit.Sdk.XunitException>(() => SchemaAssert.Valid(schema, json));
    }

    [Fact]
    public void Generate_SameSchemaAndSeed_SameValue_OtherSeedsVary()
    {
        using var document = JsonDocument.Parse(Schemas.Single(s => (string)s[0] == "nested objects")[1].ToString()!);

        var first = SchemaInstance.Generate(document.RootElement, 42)!.ToJsonString();

        Assert.Equal(first, SchemaInstance.Generate(document.RootElement, 42)!.ToJsonString());
        Assert.True(Enumerable.Range(0, 10).Select(seed => SchemaInstance.Generate(document.RootElement, seed)!.ToJsonString()).Distinct().Count() > 1);
    }

    [Fact]
    public void Generate_Object_HasEveryPropertyInSchemaOrderAndNoOther()
    {
        using var document = JsonDocument.Parse("""{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"},"c":{"type":"boolean"}},"required":["a","b","c"],"additionalProperties":false}""");

        var value = Assert.IsType<JsonObject>(SchemaInstance.Generate(document.RootElement, 1));

        Assert.Equal(["b", "a", "c"], value.Select(p => p.Key));
        Assert.Equal(JsonValueKind.String, value["b"]!.GetValueKind());
        Assert.Equal(JsonValueKind.Number, value["a"]!.GetValueKind());
        Assert.InRange(value["a"]!.GetValue<long>(), 1, 100);
    }

    [Fact]
    public void Generate_NullableOutsideRecursion_IsNeverNull()
    {
        using var document = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":["string","null"]},"b":{"anyOf":[{"type":"null"},{"type":"integer"}]}},"required":["a","b"],"additionalProperties":false}""");

        for (var seed = 0; seed < 20; seed++)
        {
            var value = SchemaInstance.Generate(document.RootElement, seed)!;

            Assert.Equal(JsonValueKind.String, value["a"]!.GetValueKind());
            Assert.Equal(JsonValueKind.Number, value["b"]!.GetValueKind());
        }
    }

    [Fact]
    public void Generate_ArrayWithoutBounds_HoldsOneToThreeItems()
    {
        using var document = JsonDocument.Parse("""{"type":"array","items":{"type":"integer"}}""");

        var counts = Enumerable.Range(0, 40).Select(seed => SchemaInstance.Generate(document.RootElement, seed)!.AsArray().Count).ToHashSet();

        Assert.Equal([1, 2, 3], counts.Order());
    }

    [Fact]
    public void Generate_LinkedListThroughRoot_EndsAfterTheReferenceDepth()
    {
        using var document = JsonDocument.Parse("""{"type":"object","properties":{"value":{"type":"string"},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["value","next"],"additionalProperties":false}""");

        var node = SchemaInstance.Generate(document.RootElement, 3);
        var length = 0;
        while (node is not null)
        {
            length++;
            node = node["next"];
        }

        // The root and one node per reference followed; the last reference closes the list with null.
        Assert.Equal(SchemaInstance.MaxReferenceDepth + 1, length);
    }

    [Fact]
    public void Generate_TreeThroughDefs_ClosesWithEmptyChildren()
    {
        using var document = JsonDocument.Parse("""
            {"$ref":"#/$defs/node","$defs":{"node":{"type":"object","properties":{"name":{"type":"string"},"children":{"type":"array","items":{"$ref":"#/$defs/node"}}},"required":["name","children"],"additionalProperties":false}}}
            """);

        var depth = Depth(SchemaInstance.Generate(document.RootElement, 5)!);

        Assert.Equal(SchemaInstance.MaxReferenceDepth, depth);

        static int Depth(JsonNode node) => 1 + node["children"]!.AsArray().Select(c => Depth(c!)).DefaultIfEmpty(0).Max();
    }

    [Fact]
    public void Generate_SchemaWithoutFiniteValue_StopsWithNullInsteadOfOverflowing()
    {
        using var document = JsonDocument.Parse("""{"type":"object","properties":{"left":{"$ref":"#"},"right":{"$ref":"#"}},"required":["left","right"],"additionalProperties":false}""");

        var value = SchemaInstance.Generate(document.RootElement, 1)!;

        var leaf = value;
        for (var level = 0; level < 2 * SchemaInstance.MaxReferenceDepth; level++)
        {
            leaf = leaf["left"]!;
        }

        Assert.Null(leaf["left"]);
    }

    [Theory]
    [InlineData("""{"$ref":"https://example.com/other.json"}""")]
    [InlineData("""{"$ref":"#/$defs/missing"}""")]
    [InlineData("""false""")]
    public void Generate_ReferenceThatResolvesToNothing_IsNull(string schema)
    {
        using var document = JsonDocument.Parse(schema);

        Assert.Null(SchemaInstance.Generate(document.RootElement, 1));
    }

    [Fact]
    public void Generate_Formats_AreInTheDocumentedRanges()
    {
        using var document = JsonDocument.Parse("""{"type":"object","properties":{"at":{"type":"string","format":"date-time"},"mail":{"type":"string","format":"email"}},"required":["at","mail"],"additionalProperties":false}""");

        var value = SchemaInstance.Generate(document.RootElement, 9)!;

        var at = DateTimeOffset.Parse(value["at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(at, SchemaInstance.Epoch, SchemaInstance.Epoch.AddYears(1));
        Assert.EndsWith("@example.com", value["mail"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
