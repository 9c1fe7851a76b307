using Infra.Tests.Support;

namespace Infra.Tests;

/// <summary>Every Bicep file compiles and lints offline with the Bicep CLI, without a single warning.</summary>
[Collection(InfraTemplateGroup.Name)]
public sealed class BicepTests(InfraTemplate template)
{
    [Fact]
    public void Build_EveryBicepFile_CompilesWithoutErrorsOrWarnings()
    {
        Assert.True(template.BuildDiagnostics.Count == 0, "bicep build:" + Environment.NewLine + string.Join(Environment.NewLine, template.BuildDiagnostics));
        Assert.Equal(InfraTemplate.BicepFiles, template.CompiledFiles);
        Assert.Contains("main.bicep", InfraTemplate.BicepFiles);
    }

    [Fact]
    public void Lint_EveryBicepFile_HasNoFindings()
    {
        Assert.True(template.LintDiagnostics.Count == 0, "bicep lint:" + Environment.NewLine + string.Join(Environment.NewLine, template.LintDiagnostics));
    }

    [Fact]
    public void Suppressions_EachNamesItsCodes_UnderACommentSayingWhichGap()
    {
        // A warning may be silenced only for a known gap in Azure's type definitions, one line at a time, and the
        // comment above says which: never a whole file, never a linter rule.
        var problems = new List<string>();
        foreach (var file in InfraTemplate.BicepFiles)
        {
            var lines = File.ReadAllLines(Path.Combine(InfraTemplate.InfraPath, file));
            for (var i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.StartsWith("#disable-diagnostics", StringComparison.Ordinal))
                {
                    problems.Add($"{file}({i + 1}): #disable-diagnostics silences a whole file");
                }

                if (!line.StartsWith("#disable-next-line", StringComparison.Ordinal))
                {
                    continue;
                }

                var codes = line["#disable-next-line".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (codes.Length == 0 || codes.Any(c => !c.StartsWith("BCP", StringComparison.Ordinal)))
                {
                    problems.Add($"{file}({i + 1}): '{line}' must name compiler codes (BCPnnn), not linter rules or nothing");
                }

                if (i == 0 || !lines[i - 1].Trim().StartsWith("//", StringComparison.Ordinal) || !lines[i - 1].Contains("gap", StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add($"{file}({i + 1}): '{line}' needs a comment right above it saying which gap in the type definitions it works around");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }
}
