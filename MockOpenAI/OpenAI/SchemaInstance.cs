using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.OpenAI;

/// <summary>
/// Builds a JSON value that validates against a JSON schema of the subset OpenAI's strict mode accepts, with every
/// choice drawn from one seeded random source, so the same schema and seed give the same value. docs/mock.md
/// ("Structured outputs") states what each keyword produces.
/// </summary>
internal sealed class SchemaInstance
{
    /// <summary>How many <c>$ref</c>s one path may follow before the value is closed off with the least it can hold.</summary>
    public const int MaxReferenceDepth = 3;

    /// <summary>A hard stop for schemas that cannot end (a required property that refers back to itself).</summary>
    public const int MaxDepth = 64;

    /// <summary>Items in an array when the schema bounds neither end: 1 to this many.</summary>
    public const int DefaultMaxItems = 3;

    /// <summary>The first instant of the range date-time, date and time values are drawn from (one year).</summary>
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const double Limit = 1e15;

    private readonly JsonElement _root;
    private readonly Random _random;

    private SchemaInstance(JsonElement root, Random random)
    {
        _root = root;
        _random = random;
    }

    /// <summary>A value for <paramref name="schema"/>, the same for the same schema and seed.</summary>
    public static JsonNode? Generate(JsonElement schema, int seed) => new SchemaInstance(schema, new Random(seed)).Value(schema, 0, 0);

    private JsonNode? Value(JsonElement schema, int depth, int references)
    {
        if (schema.ValueKind != JsonValueKind.Object || depth > MaxDepth || references > 2 * MaxReferenceDepth)
        {
            // `true`, `false` or nonsense as a schema: nothing to follow, and null is the smallest answer. Past twice
            // the reference depth the schema has no finite value (a required, non-nullable property that refers back),
            // so the value stops here instead of growing without end.
            return null;
        }

        var closing = references >= MaxReferenceDepth;
        if (schema.TryGetProperty("$ref", out var reference) && reference.ValueKind == JsonValueKind.String)
        {
            return Resolve(reference.GetString()!) is { } target ? Value(target, depth + 1, references + 1) : null;
        }

        if (schema.TryGetProperty("const", out var constant))
        {
            return JsonNode.Parse(constant.GetRawText());
        }

        if (schema.TryGetProperty("enum", out var values) && values.ValueKind == JsonValueKind.Array && values.GetArrayLength() > 0)
        {
            return JsonNode.Parse(values[_random.Next(values.GetArrayLength())].GetRawText());
        }

        foreach (var keyword in (ReadOnlySpan<string>)["anyOf", "oneOf"])
        {
            if (schema.TryGetProperty(keyword, out var branches) && branches.ValueKind == JsonValueKind.Array && branches.GetArrayLength() > 0)
            {
                return Value(Branch([.. branches.EnumerateArray()], closing), depth + 1, references);
            }
        }

        if (schema.TryGetProperty("allOf", out var all) && all.ValueKind == JsonValueKind.Array && all.GetArrayLength() > 0)
        {
            return Value(all[0], depth + 1, references);
        }

        return TypeOf(schema, closing) switch
        {
            "object" => Object(schema, depth, references, closing),
            "array" => Array(schema, depth, references, closing),
            "string" => String(schema),
            "integer" => Integer(schema),
            "number" => Number(schema),
            "boolean" => _random.Next(2) == 1,
            "null" => null,
            _ => SyntheticText.Words[_random.Next(SyntheticText.Words.Count)],
        };
    }

    /// <summary>
    /// The type to produce: the only one, or among several (<c>["string","null"]</c>) a seeded non-null one, null only
    /// once the recursion is being closed. Without <c>type</c>, <c>properties</c> means an object, <c>items</c> an array.
    /// </summary>
    private string? TypeOf(JsonElement schema, bool closing)
    {
        if (schema.TryGetProperty("type", out var type))
        {
            if (type.ValueKind == JsonValueKind.String)
            {
                return type.GetString();
            }

            if (type.ValueKind == JsonValueKind.Array)
            {
                var types = type.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!).ToList();
                var concrete = types.Where(t => t != "null").ToList();
                return closing && types.Contains("null") ? "null"
                    : concrete.Count > 0 ? concrete[_random.Next(concrete.Count)]
                    : types.FirstOrDefault();
            }
        }

        return schema.TryGetProperty("properties", out _) ? "object" : schema.TryGetProperty("items", out _) ? "array" : null;
    }

    /// <summary>
    /// A seeded branch that is not <c>{"type":"null"}</c>; once the recursion is being closed, the null branch, or else
    /// the first branch that does not refer elsewhere.
    /// </summary>
    private JsonElement Branch(List<JsonElement> branches, bool closing)
    {
        if (closing)
        {
            return branches.FirstOrDefault(IsNull, branches.FirstOrDefault(b => !b.TryGetProperty("$ref", out _), branches[0]));
        }

        var concrete = branches.Where(b => !IsNull(b)).ToList();
        return concrete.Count > 0 ? concrete[_random.Next(concrete.Count)] : branches[0];

        static bool IsNull(JsonElement branch) => branch.ValueKind == JsonValueKind.Object && branch.TryGetProperty("type", out var t)
            && t.ValueKind == JsonValueKind.String && t.GetString() == "null";
    }

    /// <summary>
    /// Every property of <c>properties</c>, in the schema's order (only the required ones once the recursion is being
    /// closed); never one that is not there.
    /// </summary>
    private JsonObject Object(JsonElement schema, int depth, int references, bool closing)
    {
        var result = new JsonObject();
        if (schema.TryGetProperty("properties", out var properties) && properties.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in properties.EnumerateObject())
            {
                // Closing a recursion, an optional property (possible outside strict mode) is left out.
                if (closing && !IsRequired(schema, property.Name))
                {
                    continue;
                }

                result[property.Name] = Value(property.Value, depth + 1, references);
            }
        }

        // A required name that `properties` does not describe (possible outside strict mode) still gets a value.
        if (schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array)
        {
            foreach (var name in required.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!))
            {
                if (!result.ContainsKey(name))
                {
                    result[name] = SyntheticText.Words[_random.Next(SyntheticText.Words.Count)];
                }
            }
        }

        return result;
    }

    /// <summary>
    /// Between <c>minItems</c> (default 1) and <c>maxItems</c> (default two more than the minimum) items; once the
    /// recursion is being closed, only <c>minItems</c> (default none).
    /// </summary>
    private JsonArray Array(JsonElement schema, int depth, int references, bool closing)
    {
        var min = Bound(schema, "minItems");
        var max = Bound(schema, "maxItems");
        int count;
        if (closing)
        {
            count = min ?? 0;
        }
        else
        {
            var low = min ?? Math.Min(1, max ?? 1);
            var high = Math.Max(low, max ?? (low + DefaultMaxItems - 1));
            count = _random.Next(low, high + 1);
        }

        var items = schema.TryGetProperty("items", out var i) ? i : default;
        var result = new JsonArray();
        for (var index = 0; index < count; index++)
        {
            result.Add(items.ValueKind == JsonValueKind.Object ? Value(items, depth + 1, references) : SyntheticText.Words[_random.Next(SyntheticText.Words.Count)]);
        }

        return result;
    }

    /// <summary>
    /// A value of the <c>format</c> when it is one of the cheap ones; otherwise one to three words, lengthened to
    /// <c>minLength</c> and cut to <c>maxLength</c>. <c>pattern</c> is not followed.
    /// </summary>
    private string String(JsonElement schema)
    {
        var format = schema.TryGetProperty("format", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
        var instant = Epoch.AddSeconds(_random.Next(365 * 24 * 60 * 60));
        switch (format)
        {
            case "date-time":
                return instant.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            case "date":
                return instant.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            case "time":
                return instant.ToString("HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            case "email":
                return Word().ToLowerInvariant() + "@example.com";
            case "hostname":
                return Word().ToLowerInvariant() + ".example.com";
            case "uri":
                return "https://example.com/" + Word().ToLowerInvariant();
            case "ipv4":
                return string.Create(CultureInfo.InvariantCulture, $"10.{_random.Next(256)}.{_random.Next(256)}.{_random.Next(1, 255)}");
            case "uuid":
                var bytes = new byte[16];
                _random.NextBytes(bytes);

                // Version 4, RFC 4122 variant: a UUID a strict parser accepts.
                bytes[6] = (byte)((bytes[6] & 0x0F) | 0x40);
                bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
                var hex = Convert.ToHexStringLower(bytes);
                return $"{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
            case "duration":
                return string.Create(CultureInfo.InvariantCulture, $"PT{_random.Next(1, 60)}M");
        }

        var text = new StringBuilder(Word());
        for (var more = _random.Next(3); more > 0; more--)
        {
            text.Append(' ').Append(Word());
        }

        var minLength = Bound(schema, "minLength") ?? 0;
        while (text.Length < minLength)
        {
            text.Append(' ').Append(Word());
        }

        var maxLength = Bound(schema, "maxLength");
        var value = (maxLength is { } cut && text.Length > cut ? text.ToString(0, cut) : text.ToString()).TrimEnd();

        // A cut can end on a space; trimmed, the value may fall short of minLength again, so it is filled with letters.
        return value.Length >= minLength ? value : value + new string('x', minLength - value.Length);
    }

    private string Word() => SyntheticText.Words[_random.Next(SyntheticText.Words.Count)];

    /// <summary>
    /// Between the bounds (<c>minimum</c>, <c>maximum</c> and their exclusive forms; 1 to 100 when unbounded, or the
    /// hundred next to the one bound given), on a <c>multipleOf</c> when one fits.
    /// </summary>
    private long Integer(JsonElement schema)
    {
        var (low, high) = Range(schema, exclusiveStep: 1);
        var lowest = (long)Math.Ceiling(low);
        var highest = (long)Math.Floor(high);
        if (highest < lowest)
        {
            return lowest;
        }

        var value = _random.NextInt64(lowest, highest + 1);
        if (schema.TryGetProperty("multipleOf", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt64(out var step) && step > 0)
        {
            var multiple = (long)Math.Ceiling((double)lowest / step) * step;
            if (multiple <= highest)
            {
                var span = (highest - multiple) / step;
                value = multiple + (step * _random.NextInt64(0, span + 1));
            }
        }

        return value;
    }

    /// <summary>Between the bounds as <see cref="Integer"/>, with two decimals.</summary>
    private double Number(JsonElement schema)
    {
        var (low, high) = Range(schema, exclusiveStep: 0.01);
        var lowest = Math.Ceiling(low * 100);
        var highest = Math.Floor(high * 100);
        return highest < lowest ? low : (lowest + Math.Floor(_random.NextDouble() * (highest - lowest + 1))) / 100;
    }

    private static (double Low, double High) Range(JsonElement schema, double exclusiveStep)
    {
        double? low = Number(schema, "minimum") ?? (Number(schema, "exclusiveMinimum") is { } el ? el + exclusiveStep : null);
        double? high = Number(schema, "maximum") ?? (Number(schema, "exclusiveMaximum") is { } eh ? eh - exclusiveStep : null);
        var (from, to) = (low, high) switch
        {
            ({ } l, { } h) => (l, h),
            ({ } l, null) => (l, l + 99),
            (null, { } h) => (h - 99, h),
            _ => (1, 100),
        };

        // Kept where a double still counts in whole numbers and a long cannot overflow.
        return (Math.Clamp(from, -Limit, Limit), Math.Clamp(to, -Limit, Limit));
    }

    private static bool IsRequired(JsonElement schema, string name) =>
        schema.TryGetProperty("required", out var required) && required.ValueKind == JsonValueKind.Array
        && required.EnumerateArray().Any(r => r.ValueKind == JsonValueKind.String && r.GetString() == name);

    private static double? Number(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    private static int? Bound(JsonElement schema, string name) =>
        schema.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var bound) && bound >= 0 ? bound : null;

    /// <summary>
    /// A reference inside the schema: <c>#</c> (the root, for recursion) or a JSON pointer such as
    /// <c>#/$defs/Step</c> or <c>#/definitions/Step</c>. Anything else (another document) resolves to nothing.
    /// </summary>
    private JsonElement? Resolve(string reference)
    {
        if (reference == "#")
        {
            return _root;
        }

        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            return null;
        }

        var node = _root;
        foreach (var raw in reference[2..].Split('/'))
        {
            var token = Uri.UnescapeDataString(raw).Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (node.ValueKind == JsonValueKind.Object && node.TryGetProperty(token, out var child))
            {
                node = child;
            }
            else if (node.ValueKind == JsonValueKind.Array && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < node.GetArrayLength())
            {
                node = node[index];
            }
            else
            {
                return null;
            }
        }

        return node;
    }
}
