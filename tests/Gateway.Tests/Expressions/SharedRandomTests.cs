using Gateway.Expressions;
using Gateway.Policies;
using static Gateway.Tests.Support.TestExpressions;

namespace Gateway.Tests.Expressions;

/// <summary>An unseeded <c>new Random()</c> in a policy expression is compiled as <see cref="Random.Shared"/>; nothing else changes.</summary>
public class SharedRandomTests
{
    [Theory]
    [InlineData("new Random()")]
    [InlineData("new System.Random()")]
    [InlineData("new global::System.Random( )")]
    [InlineData("var r = new Random(); return r;")]
    [InlineData("Func<Random> make = () => new Random(); return make();")]
    [InlineData("return true ? new Random() : null;")]
    public void Unseeded_IsTheSharedGenerator(string code)
    {
        var expression = Expression(0, code);
        using var compiled = ExpressionCompiler.Compile("policy.xml", [expression], compilerProcess: null);

        Assert.Same(Random.Shared, expression.Evaluate(null!));
    }

    [Fact]
    public void Unseeded_SeveralInOneDocument_AreAllShared()
    {
        var expressions = new[] { Expression(0, "object.ReferenceEquals(new Random(), new Random())"), Expression(1, "new Random().Next(0, 1) + new Random().Next(5, 6)") };
        using var compiled = ExpressionCompiler.Compile("policy.xml", expressions, compilerProcess: null);

        Assert.Equal(true, expressions[0].Evaluate(null!));
        Assert.Equal(5, expressions[1].Evaluate(null!));
    }

    [Fact]
    public void Unseeded_InTheArticlesPick_StillPicksEveryBackend()
    {
        var expression = Expression(0, """
            var backendIds = "a, b ,c".Split(',');
            return backendIds[new Random().Next(0, backendIds.Length)].Trim();
            """);
        using var compiled = ExpressionCompiler.Compile("policy.xml", [expression], compilerProcess: null);

        var picks = Enumerable.Range(0, 300).Select(_ => (string)expression.Evaluate(null!)!).ToHashSet();

        Assert.Equal(["a", "b", "c"], picks.Order());
    }

    [Fact]
    public void Seeded_IsLeftAlone_AndRepeatsItsSequence()
    {
        var expressions = new[] { Expression(0, "new Random(42)"), Expression(1, "new Random(42).Next() + \",\" + new Random(42).Next()") };
        using var compiled = ExpressionCompiler.Compile("policy.xml", expressions, compilerProcess: null);

        var seeded = Assert.IsType<Random>(expressions[0].Evaluate(null!));
        Assert.NotSame(Random.Shared, seeded);
        var expected = new Random(42).Next();
        Assert.Equal(expected, seeded.Next());
        Assert.Equal($"{expected},{expected}", expressions[1].Evaluate(null!));
    }

    [Fact]
    public void WithAnInitializer_IsLeftAlone()
    {
        var expression = Expression(0, "new Random { }");
        using var compiled = ExpressionCompiler.Compile("policy.xml", [expression], compilerProcess: null);

        Assert.NotSame(Random.Shared, expression.Evaluate(null!));
    }

    [Theory]
    [InlineData("new Random(); return 1;")]
    [InlineData("for (new Random(); false; new Random()) { } return 1;")]
    [InlineData("Action a = () => new Random(); a(); return 1;")]
    public void WhereAPropertyReadCouldNotStand_ThePolicyStillLoadsAsWritten(string code)
    {
        var expressions = new[] { Expression(0, code), Expression(1, "new Random()") };
        using var compiled = ExpressionCompiler.Compile("policy.xml", expressions, compilerProcess: null);

        Assert.Equal(1, expressions[0].Evaluate(null!));
        Assert.IsType<Random>(expressions[1].Evaluate(null!), exactMatch: false);
    }

    [Fact]
    public void AnErrorAfterARewrittenExpression_KeepsItsPlaceInThePolicy()
    {
        var expressions = new[]
        {
            Expression(0, "new Random().Next(3)", line: 3, column: 40),
            Expression(1, "new Random().Nope()", line: 4, column: 40),
        };

        var error = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("policy.xml", expressions, compilerProcess: null));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("policy.xml(4,53): error CS1061: 'Random' does not contain a definition for 'Nope'", problem, StringComparison.Ordinal);
    }
}
