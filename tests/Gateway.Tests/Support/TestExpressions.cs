using Gateway.Expressions;

namespace Gateway.Tests.Support;

/// <summary>Policy expressions made directly, for tests of the expression compiler.</summary>
internal static class TestExpressions
{
    /// <summary>Expression <paramref name="index"/> (method <c>E{index}</c>); a block when its code has a <c>return</c>.</summary>
    public static PolicyExpression Expression(int index, string code, ExpressionKind kind = ExpressionKind.Value, string file = "policy.xml", int line = 1, int column = 1) =>
        new(index, code, isBlock: code.Contains("return", StringComparison.Ordinal), kind, new SourceLocation(file, line, column));
}
