namespace Gateway.Expressions;

/// <summary>API Management's helper methods on <c>context</c> members, available to every expression.</summary>
public static class ContextExtensions
{
    /// <summary>The variable converted to <typeparamref name="T"/>, or <paramref name="defaultValue"/> when it is not set.</summary>
    /// <exception cref="InvalidCastException">The variable holds a value of another type, as in API Management.</exception>
    public static T GetValueOrDefault<T>(this IReadOnlyDictionary<string, object> variables, string name, T defaultValue = default!)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return variables.TryGetValue(name, out var value) ? (T)value : defaultValue;
    }

    /// <summary>
    /// The header's values joined with commas, or null when absent. Without this overload C# would pick .NET's own
    /// <c>GetValueOrDefault(key)</c>, which returns the <c>string[]</c>; API Management's returns a string
    /// (Microsoft's samples write <c>(string)context.Request.Headers.GetValueOrDefault("x-correlation-id")</c>).
    /// </summary>
    public static string? GetValueOrDefault(this IReadOnlyDictionary<string, string[]> headers, string name) => GetValueOrDefault(headers, name, null);

    /// <summary>The header's values joined with commas, or <paramref name="defaultValue"/> when absent.</summary>
    public static string? GetValueOrDefault(this IReadOnlyDictionary<string, string[]> headers, string name, string? defaultValue)
    {
        ArgumentNullException.ThrowIfNull(headers);
        return headers.TryGetValue(name, out var values) && values.Length > 0 ? string.Join(",", values) : defaultValue;
    }
}
