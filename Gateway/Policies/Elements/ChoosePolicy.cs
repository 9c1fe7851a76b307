using System.Runtime.CompilerServices;
using Gateway.Expressions;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary><c>choose</c>: runs the first <c>when</c> whose condition holds, else <c>otherwise</c>.</summary>
internal sealed class ChoosePolicy : PolicyElement
{
    private readonly (PolicyValue Condition, IReadOnlyList<PolicyElement> Body)[] _whens;
    private readonly IReadOnlyList<PolicyElement>? _otherwise;

    private ChoosePolicy(ElementInfo info, (PolicyValue, IReadOnlyList<PolicyElement>)[] whens, IReadOnlyList<PolicyElement>? otherwise)
        : base(info)
    {
        _whens = whens;
        _otherwise = otherwise;
    }

    /// <summary>Every branch's elements, the otherwise branch last.</summary>
    public override IEnumerable<IReadOnlyList<PolicyElement>> Nested => _whens.Select(w => w.Body).Concat(_otherwise is null ? [] : [_otherwise]);

    public static PolicyElement? Parse(ElementReader reader)
    {
        var whens = new List<(PolicyValue, IReadOnlyList<PolicyElement>)>();
        IReadOnlyList<PolicyElement>? otherwise = null;
        var children = reader.Children("when", "otherwise");
        for (var i = 0; i < children.Count; i++)
        {
            var child = children[i];
            var childReader = reader.Reader(child, child.Name.LocalName == "when" ? whens.Count + 1 : 1);
            if (child.Name.LocalName == "when")
            {
                if (otherwise is not null)
                {
                    childReader.Error("<when> must come before <otherwise>");
                }

                var condition = childReader.Value("condition", required: true, ExpressionKind.Condition);
                var body = childReader.PolicyChildren();
                childReader.Finish();
                if (condition is not null)
                {
                    whens.Add((condition, body));
                }
            }
            else
            {
                if (otherwise is not null)
                {
                    childReader.Error("<choose> has more than one <otherwise>");
                }

                otherwise = childReader.PolicyChildren();
                childReader.Finish();
            }
        }

        if (whens.Count == 0)
        {
            // API Management refuses a choose with only <otherwise>, or none (docs/fidelity.md, "Evidence rule").
            reader.Error("<choose> needs at least one <when> (API Management refuses a <choose> without one)");
        }

        return new ChoosePolicy(reader.Info, [.. whens], otherwise);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        foreach (var (condition, body) in _whens)
        {
            if (condition.IsTrue(context, Name))
            {
                return await PolicyRunner.RunElementsAsync(context, frame, body);
            }
        }

        return _otherwise is null ? PolicyFlow.Continue : await PolicyRunner.RunElementsAsync(context, frame, _otherwise);
    }
}
