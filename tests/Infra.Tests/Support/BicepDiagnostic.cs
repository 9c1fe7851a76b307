using System.Text.RegularExpressions;

namespace Infra.Tests.Support;

/// <summary>One diagnostic the Bicep CLI printed: <c>file(line,col) : Warning CODE: message [link]</c>.</summary>
public sealed partial record BicepDiagnostic(string File, int Line, int Column, string Level, string Code, string Message)
{
    /// <summary>Every diagnostic of the CLI's output; a line that is not one is kept whole, as an error, so nothing is lost.</summary>
    public static IReadOnlyList<BicepDiagnostic> Parse(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(line =>
            Pattern().Match(line) is { Success: true } match
                ? new BicepDiagnostic(
                    match.Groups["file"].Value,
                    int.Parse(match.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    int.Parse(match.Groups["column"].Value, System.Globalization.CultureInfo.InvariantCulture),
                    match.Groups["level"].Value,
                    match.Groups["code"].Value,
                    match.Groups["message"].Value)
                : new BicepDiagnostic(string.Empty, 0, 0, "Error", "output", line))];

    public override string ToString() => $"{File}({Line},{Column}): {Level} {Code}: {Message}";

    [GeneratedRegex(@"^(?<file>.+?)\((?<line>\d+),(?<column>\d+)\) : (?<level>Error|Warning|Info) (?<code>[^:]+): (?<message>.*)$")]
    private static partial Regex Pattern();
}
