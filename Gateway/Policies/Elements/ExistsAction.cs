namespace Gateway.Policies.Elements;

/// <summary>The <c>exists-action</c> of <c>set-header</c> and <c>set-query-parameter</c>.</summary>
internal enum ExistsAction
{
    Override,
    Skip,
    Append,
    Delete,
}

internal static class ExistsActions
{
    public static ExistsAction Read(ElementReader reader)
    {
        var text = reader.Literal("exists-action");
        switch (text)
        {
            case null or "override": return ExistsAction.Override;
            case "skip": return ExistsAction.Skip;
            case "append": return ExistsAction.Append;
            case "delete": return ExistsAction.Delete;
            default:
                reader.Error($"exists-action must be override, skip, append or delete, not '{text}'");
                return ExistsAction.Override;
        }
    }

    /// <summary>Applies the action to <paramref name="name"/> in a multi-valued collection (headers or query parameters).</summary>
    public static void Apply(ExistsAction action, IDictionary<string, string[]> collection, string name, IReadOnlyList<string> values)
    {
        var exists = collection.TryGetValue(name, out var existing);
        switch (action)
        {
            case ExistsAction.Delete:
                collection.Remove(name);
                break;
            case ExistsAction.Skip when exists:
                break;
            case ExistsAction.Append when exists:
                collection[name] = [.. existing!, .. values];
                break;
            default:
                collection[name] = [.. values];
                break;
        }
    }

    public static IReadOnlyList<PolicyValue> ReadValues(ElementReader reader, ExistsAction action)
    {
        var values = reader.Children("value").Select(v => reader.TextValue(v)).ToList();
        if (values.Count == 0 && action != ExistsAction.Delete)
        {
            reader.Error($"<{reader.Info.Name}> needs at least one <value> unless exists-action is delete");
        }

        return values;
    }
}
