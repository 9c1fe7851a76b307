using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Gateway.Expressions;

/// <summary>
/// Compiles a policy expression's unseeded <c>new Random()</c> as <see cref="Random.Shared"/>: the same kind of
/// generator (unseeded, of the same algorithm), and thread-safe, but without the seed that every new instance reads
/// from the operating system. On Linux that is a <c>read</c> of <c>/dev/urandom</c> per instance (the runtime's
/// portable build has no <c>arc4random</c>), which the article's policy makes on every request
/// (docs/performance.md). A seeded <c>new Random(seed)</c> is left alone: its sequence is the caller's to repeat.
/// </summary>
internal static class SharedRandom
{
    private static readonly ExpressionSyntax Shared = SyntaxFactory.ParseExpression("global::System.Random.Shared");

    /// <summary><paramref name="compilation"/> with its one tree's unseeded <c>new Random()</c> replaced, or itself when it has none.</summary>
    public static CSharpCompilation Apply(CSharpCompilation compilation, SemanticModel model)
    {
        var random = compilation.GetTypeByMetadataName("System.Random");
        var tree = model.SyntaxTree;
        var root = tree.GetRoot();
        var unseeded = root.DescendantNodes()
            .OfType<ObjectCreationExpressionSyntax>()
            .Where(creation => creation.Initializer is null
                && creation.ArgumentList is { Arguments.Count: 0 }
                && model.GetSymbolInfo(creation).Symbol is IMethodSymbol { Parameters.Length: 0 } constructor
                && SymbolEqualityComparer.Default.Equals(constructor.ContainingType, random))
            .ToList();
        if (unseeded.Count == 0)
        {
            return compilation;
        }

        var rewritten = root.ReplaceNodes(unseeded, (original, _) => Shared.WithTriviaFrom(original));
        return compilation.ReplaceSyntaxTree(tree, tree.WithRootAndOptions(rewritten, tree.Options));
    }
}
