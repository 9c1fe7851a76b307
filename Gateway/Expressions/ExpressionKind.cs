namespace Gateway.Expressions;

/// <summary>What an expression must produce: any value, or a <see cref="bool"/> for conditions.</summary>
internal enum ExpressionKind
{
    Value,
    Condition,
}
