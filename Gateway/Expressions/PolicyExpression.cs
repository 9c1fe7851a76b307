namespace Gateway.Expressions;

/// <summary>
/// One <c>@(...)</c> or <c>@{...}</c> of a policy document. It is registered while the document is parsed and bound to
/// its compiled method once the whole document has been compiled.
/// </summary>
internal sealed class PolicyExpression
{
    private Func<IContext, object?>? _value;
    private Func<IContext, bool>? _condition;

    public PolicyExpression(int index, string code, bool isBlock, ExpressionKind kind, SourceLocation location)
    {
        Index = index;
        Code = code;
        IsBlock = isBlock;
        Kind = kind;
        Location = location;
    }

    public int Index { get; }

    /// <summary>The C# between the delimiters.</summary>
    public string Code { get; }

    public bool IsBlock { get; }

    public ExpressionKind Kind { get; }

    /// <summary>Where <see cref="Code"/> starts in the policy file.</summary>
    public SourceLocation Location { get; }

    public string MethodName => "E" + Index.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public object? Evaluate(IContext context) =>
        Kind == ExpressionKind.Condition ? EvaluateCondition(context) : (_value ?? throw Unbound())(context);

    public bool EvaluateCondition(IContext context) => (_condition ?? throw Unbound())(context);

    internal void Bind(Delegate compiled)
    {
        if (Kind == ExpressionKind.Condition)
        {
            _condition = (Func<IContext, bool>)compiled;
        }
        else
        {
            _value = (Func<IContext, object?>)compiled;
        }
    }

    private InvalidOperationException Unbound() => new($"{Location}: the expression was never compiled");
}
