using System.Globalization;
using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary>An attribute or element value of a policy: a literal string or a compiled expression.</summary>
internal sealed class PolicyValue
{
    private readonly string? _literal;

    private PolicyValue(string? literal, PolicyExpression? expression)
    {
        _literal = literal;
        Expression = expression;
    }

    public PolicyExpression? Expression { get; }

    public bool IsExpression => Expression is not null;

    public static PolicyValue Literal(string text) => new(text, null);

    public static PolicyValue FromExpression(PolicyExpression expression) => new(null, expression);

    /// <summary>
    /// The value: a literal is a <see cref="string"/>; an expression keeps its own type. An exception thrown by the
    /// expression becomes API Management's ExpressionValueEvaluationFailure.
    /// </summary>
    public object? Evaluate(IContext context, string source)
    {
        if (Expression is null)
        {
            return _literal;
        }

        try
        {
            return Expression.Evaluate(context);
        }
        catch (Exception ex) when (ex is not PolicyExecutionException and not OperationCanceledException)
        {
            throw new PolicyExecutionException(source, "ExpressionValueEvaluationFailure", "Expression evaluation failed. " + ex.Message, ex);
        }
    }

    public string? EvaluateString(IContext context, string source) => Evaluate(context, source) switch
    {
        null => null,
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };

    public override string ToString() => Expression is null ? _literal ?? string.Empty : "@(" + Expression.Code + ")";
}
