namespace Gateway.Telemetry;

/// <summary>
/// A logger that hands its providers a record's structured state, and its message, with the values of any query string
/// or URL in it redacted (<see cref="QueryRedaction"/>); a record without one passes as it came.
/// </summary>
internal sealed class RedactingLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => inner.BeginScope(state);

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel) || state is not IReadOnlyList<KeyValuePair<string, object?>> values)
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
            return;
        }

        // Read once: a state may compute its values on each access (ASP.NET Core's request logs do).
        KeyValuePair<string, object?>[]? redacted = null;
        string? message = null;
        for (var i = 0; i < values.Count; i++)
        {
            var (key, value) = values[i];
            if (Text(value) is not { } text || QueryRedaction.Redact(text) is var safe && ReferenceEquals(safe, text))
            {
                continue;
            }

            redacted ??= [.. values];
            redacted[i] = new(key, safe);
            message = (message ?? formatter(state, exception)).Replace(text, safe, StringComparison.Ordinal);
        }

        if (redacted is null)
        {
            inner.Log(logLevel, eventId, state, exception, formatter);
            return;
        }

        inner.Log(logLevel, eventId, new RedactedLogState(redacted, message!), exception, static (s, _) => s.Message);
    }

    /// <summary>The text of a value that can hold a query: a string, a URI or a query string.</summary>
    private static string? Text(object? value) => value switch
    {
        string text => text,
        Uri uri => uri.OriginalString,
        QueryString query => query.Value,
        _ => null,
    };
}
