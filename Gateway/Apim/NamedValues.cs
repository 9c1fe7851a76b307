using System.Text.RegularExpressions;
using Gateway.Apim.Model;
using Gateway.Policies;

namespace Gateway.Apim;

/// <summary>
/// The named values of <c>apim/named-values.json</c> with local overrides from configuration. As in API Management,
/// <c>{{name}}</c> is replaced in the policy text before the policy is parsed.
/// </summary>
internal sealed partial class NamedValues
{
    public const string FileName = "named-values.json";

    private readonly Dictionary<string, string?> _values;

    public NamedValues(IReadOnlyDictionary<string, string?> values)
    {
        _values = new Dictionary<string, string?>(values, StringComparer.OrdinalIgnoreCase);
    }

    public static NamedValues Load(string apimPath, IReadOnlyDictionary<string, string> overrides)
    {
        var path = Path.Combine(apimPath, FileName);
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (File.Exists(path))
        {
            foreach (var entry in ApimJson.Read<NamedValuesDocument>(path).NamedValues ?? [])
            {
                if (string.IsNullOrWhiteSpace(entry.Name) || !values.TryAdd(entry.Name, entry.Value))
                {
                    throw new ApimArtifactException(path, $"named value '{entry.Name}' is empty or repeated");
                }
            }
        }

        foreach (var (name, value) in overrides)
        {
            values[name] = value;
        }

        return new NamedValues(values);
    }

    /// <summary>Replaces every <c>{{name}}</c>; a name with no value is an error naming its line.</summary>
    public string Substitute(string text, string sourceName)
    {
        List<string>? problems = null;
        var result = Reference().Replace(text, match =>
        {
            var name = match.Groups["name"].Value;
            if (_values.TryGetValue(name, out var value) && value is not null)
            {
                return value;
            }

            var line = text.AsSpan(0, match.Index).Count('\n') + 1;
            (problems ??= []).Add($"{sourceName}({line},{match.Index - text.LastIndexOf('\n', Math.Max(match.Index - 1, 0))}): error {PolicyDiagnostics.MissingNamedValue}: named value '{name}' has no value (add it to {FileName} or set configuration Apim:NamedValues:{name})");
            return match.Value;
        });

        return problems is null ? result : throw new PolicyLoadException(problems);
    }

    [GeneratedRegex(@"\{\{(?<name>[A-Za-z0-9._-]+)\}\}")]
    private static partial Regex Reference();

    private sealed record NamedValuesDocument(IReadOnlyList<NamedValueEntry>? NamedValues);

    private sealed record NamedValueEntry(string Name, string? Value, bool Secret);
}
