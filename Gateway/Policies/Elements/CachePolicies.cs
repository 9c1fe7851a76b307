using System.Globalization;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>The <c>caching-type</c> every cache element takes: the gateway has its internal cache only.</summary>
internal static class CachingType
{
    public static void Read(ElementReader reader)
    {
        var type = reader.Literal("caching-type");
        if (type is not null and not "internal" and not "prefer-external")
        {
            reader.Error($"caching-type=\"{type}\" is not supported by this gateway (it has an internal cache only: internal or prefer-external)");
        }
    }
}

/// <summary><c>cache-store-value</c>: stores a value (keeping its type) under a key for <c>duration</c> seconds.</summary>
internal sealed class CacheStoreValuePolicy(ElementInfo info, PolicyValue key, PolicyValue value, PolicyValue duration) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var key = reader.Value("key", required: true);
        var value = reader.Value("value", required: true);
        var duration = reader.Value("duration", required: true);
        CachingType.Read(reader);
        reader.Children();
        return key is null || value is null || duration is null ? null : new CacheStoreValuePolicy(reader.Info, key, value, duration);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var seconds = duration.EvaluateString(context, Name);
        if (!int.TryParse(seconds, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) || parsed < 0)
        {
            throw new PolicyExecutionException(Name, ErrorReasons.InvalidDuration, $"duration must be a whole number of seconds, not '{seconds}'.");
        }

        var content = value.Evaluate(context, Name);
        var cacheKey = key.EvaluateString(context, Name) ?? string.Empty;
        if (content is null)
        {
            context.Services.Cache.Remove(cacheKey);
        }
        else
        {
            context.Services.Cache.Store(cacheKey, content, TimeSpan.FromSeconds(parsed));
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}

/// <summary>
/// <c>cache-lookup-value</c>: sets <c>variable-name</c> to the cached value, or to <c>default-value</c> when nothing is
/// cached (no default: the variable is left unset).
/// </summary>
internal sealed class CacheLookupValuePolicy(ElementInfo info, PolicyValue key, string variable, PolicyValue? defaultValue) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var key = reader.Value("key", required: true);
        var variable = reader.Literal("variable-name", required: true);
        var defaultValue = reader.Value("default-value");
        CachingType.Read(reader);
        reader.Children();
        return key is null || variable is null ? null : new CacheLookupValuePolicy(reader.Info, key, variable, defaultValue);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        if (context.Services.Cache.TryGet(key.EvaluateString(context, Name) ?? string.Empty, out var cached))
        {
            context.VariableStore[variable] = cached!;
        }
        else if (defaultValue?.Evaluate(context, Name) is { } fallback)
        {
            context.VariableStore[variable] = fallback;
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}

/// <summary><c>cache-remove-value</c>: removes a key from the cache.</summary>
internal sealed class CacheRemoveValuePolicy(ElementInfo info, PolicyValue key) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var key = reader.Value("key", required: true);
        CachingType.Read(reader);
        reader.Children();
        return key is null ? null : new CacheRemoveValuePolicy(reader.Info, key);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        context.Services.Cache.Remove(key.EvaluateString(context, Name) ?? string.Empty);
        return ValueTask.FromResult(PolicyFlow.Continue);
    }
}
