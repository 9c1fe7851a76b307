using System.Globalization;
using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary>An attribute or element value of a policy: a literal string or a compiled expression.</summary>
internal sealed class PolicyValue
{
    private readonly string? _literal;

    /// <summary>For literal text with expressions in it: the text's pieces, each a <see cref="string"/> or a <see cref="PolicyExpression"/>.</summary>
    private readonly IReadOnlyList<object>? _parts;

    private PolicyValue(string? literal, PolicyExpression? expression, IReadOnlyList<object>? parts = null)
    {
        _literal = literal;
        Expression = expression;
        _parts = parts;
    }

    public PolicyExpression? Expression { get; }

    public bool IsExpression => Expression is not null || _parts is not null;

    public static PolicyValue Literal(string text) => new(text, null);

    public static PolicyValue FromExpression(PolicyExpression expression) => new(null, expression);

    /// <summary>
    /// Literal text with expressions in it (<c>https://@(...).service-now.com/</c>, as Microsoft's samples write
    /// attribute values): the text with each expression's value, as a string, in its place.
    /// </summary>
    public static PolicyValue FromParts(IReadOnlyList<object> parts) => new(null, null, parts);

    /// <summary>
    /// The value: a literal is a <see cref="string"/>; an expression keeps its own type. An exception thrown by the
    /// expression becomes API Management's ExpressionValueEvaluationFailure.
    /// </summary>
    public object? Evaluate(IContext context, string source)
    {
        if (_parts is not null)
        {
            var text = new System.Text.StringBuilder();
            foreach (var part in _parts)
            {
                text.Append(part is PolicyExpression expression ? AsString(Evaluate(expression, context, source)) : (string)part);
            }

            return text.ToString();
        }

        return Expression is null ? _literal : Evaluate(Expression, context, source);
    }

    public string? EvaluateString(IContext context, string source) => AsString(Evaluate(context, source));

    /// <summary>
    /// Whether the value is <c>true</c>: a condition's expression is called as the <see cref="bool"/> it returns, so
    /// that choosing a branch boxes nothing; any other value must be a boxed <c>true</c>.
    /// </summary>
    public bool IsTrue(IContext context, string source)
    {
        if (Expression is not { Kind: ExpressionKind.Condition } condition)
        {
            return Evaluate(context, source) is true;
        }

        try
        {
            return condition.EvaluateCondition(context);
        }
        catch (Exception ex) when (ex is not PolicyExecutionException and not OperationCanceledException)
        {
            throw EvaluationFailed(source, ex);
        }
    }

    public override string ToString() => _parts is not null
        ? string.Concat(_parts.Select(p => p is PolicyExpression e ? "@(" + e.Code + ")" : (string)p))
        : Expression is null ? _literal ?? string.Empty : "@(" + Expression.Code + ")";

    private static object? Evaluate(PolicyExpression expression, IContext context, string source)
    {
        try
        {
            return expression.Evaluate(context);
        }
        catch (Exception ex) when (ex is not PolicyExecutionException and not OperationCanceledException)
        {
            throw EvaluationFailed(source, ex);
        }
    }

    private static PolicyExecutionException EvaluationFailed(string source, Exception ex) =>
        new(source, ErrorReasons.ExpressionValueEvaluationFailure, "Expression evaluation failed. " + ex.Message, ex);

    private static string? AsString(object? value) => value switch
    {
        null => null,
        string text => text,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
