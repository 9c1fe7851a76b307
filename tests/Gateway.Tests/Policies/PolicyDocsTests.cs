using System.Text.RegularExpressions;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies;

public partial class PolicyDocsTests
{
    [Fact]
    public void PoliciesDoc_Table_ListsExactlyTheSupportedElements()
    {
        var doc = File.ReadAllText(Path.Combine(TestApim.RepoRoot, "docs", "policies.md"));

        var documented = TableRow().Matches(doc).Select(m => m.Groups["name"].Value).ToList();

        Assert.Equal(PolicyElements.Names, documented);
    }

    [GeneratedRegex(@"^\| `(?<name>[a-z-]+)` \|", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}
