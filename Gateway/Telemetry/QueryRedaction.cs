namespace Gateway.Telemetry;

/// <summary>
/// Query values in what the gateway logs. A caller may send its subscription key in the query string
/// (<c>?subscription-key=</c>, or the name its API chose, <c>?api-key=</c> for Azure OpenAI), a token too; ASP.NET
/// Core's request logs and YARP's forwarding log print the query as it came. Every value but those of
/// <see cref="KeptParameters"/> becomes <see cref="Redacted"/>; names stay, so the log still says what was sent. An
/// allow-list rather than a list of key names: a policy may take a credential from any parameter.
/// </summary>
internal static class QueryRedaction
{
    public const string Redacted = "[redacted]";

    /// <summary>Parameters whose values are never secret and worth seeing in a log.</summary>
    public static readonly IReadOnlyList<string> KeptParameters = ["api-version"];

    /// <summary>
    /// <paramref name="text"/> with the values of its query redacted when it is a query string (starting with
    /// <c>?</c>) or an absolute http(s) URL; anything else, or a query with nothing to redact, unchanged.
    /// </summary>
    public static string Redact(string text)
    {
        var start = text.StartsWith('?') ? 0
            : text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? text.IndexOf('?', StringComparison.Ordinal)
            : -1;
        if (start < 0)
        {
            return text;
        }

        var end = text.IndexOf('#', start);
        end = end < 0 ? text.Length : end;
        var parameters = text[(start + 1)..end].Split('&');
        var changed = false;
        for (var i = 0; i < parameters.Length; i++)
        {
            var equals = parameters[i].IndexOf('=', StringComparison.Ordinal);
            if (equals < 0 || equals == parameters[i].Length - 1 || IsKept(parameters[i][..equals]))
            {
                continue;
            }

            parameters[i] = parameters[i][..(equals + 1)] + Redacted;
            changed = true;
        }

        return changed ? string.Concat(text.AsSpan(0, start + 1), string.Join('&', parameters), text.AsSpan(end)) : text;
    }

    /// <summary>Names compare as the query parser reads them: percent- and plus-decoded, without case.</summary>
    private static bool IsKept(string name)
    {
        var decoded = Uri.UnescapeDataString(name.Replace('+', ' '));
        return KeptParameters.Contains(decoded, StringComparer.OrdinalIgnoreCase);
    }
}
