using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Gateway.Expressions;

/// <summary>
/// Compiles a policy expression's unseeded <c>new Random()</c> as <see cref="Random.Shared"/>: an unseeded generator of
/// the same algorithm, thread-safe, one per process, without the seed that every new instance reads from the operating
/// system (docs/performance.md, "The article's random pick without a system call"). A seeded <c>new Random(seed)</c>
/// is left alone (its sequence is the caller's to repeat), as is one with an initializer, and one that stands as a
/// statement of its own, where a property read would not compile. <see cref="ExpressionEmitter"/> falls back to the
/// expressions as written should the rewritten ones not emit.
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
                && creation.Parent is not (ExpressionStatementSyntax or ForStatementSyntax)
                && model.GetSymbolInfo(creation).Symbol is IMethodSymbol constructor
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
