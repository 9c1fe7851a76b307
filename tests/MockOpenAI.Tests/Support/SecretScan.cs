namespace MockOpenAI.Tests.Support;

/// <summary>A secret of a run, by name, with every form it could leak in (the value, a part of it, an encoding).</summary>
internal sealed record Secret(string Name, IReadOnlyList<string> Forms)
{
    /// <summary>A random key with a readable label; its two random halves are forms too, so a truncated value is still found.</summary>
    public static Secret NewKey(string name, out string value)
    {
        var random = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        value = name + "-" + random;
        return new Secret(name, [value, random[..16], random[16..]]);
    }
}

/// <summary>A secret found in telemetry: which service captured it, in what (a log message, a span attribute...), and around it.</summary>
internal sealed record Finding(string Service, string Channel, string Secret, string Excerpt)
{
    public override string ToString() => $"{Secret} in {Channel} of {Service}: {Excerpt}";
}

/// <summary>
/// Looks for secrets in every text a service's telemetry holds: each log record's message, state values, scopes and
/// exception (as the fake provider and OpenTelemetry's exporter got them), each span's name, attributes, events, links,
/// baggage and status, and each metric point's dimensions.
/// </summary>
internal static class SecretScan
{
    public static IReadOnlyList<Finding> Find(IEnumerable<TelemetryCapture> captures, IEnumerable<Secret> secrets)
    {
        var findings = new List<Finding>();
        var all = secrets.ToList();
        foreach (var capture in captures)
        {
            foreach (var (channel, text) in Texts(capture))
            {
                foreach (var secret in all)
                {
                    if (secret.Forms.FirstOrDefault(form => text.Contains(form, StringComparison.Ordinal)) is { } form)
                    {
                        findings.Add(new Finding(capture.Service, channel, secret.Name, Excerpt(text, form)));
                    }
                }
            }
        }

        return findings;
    }

    /// <summary>Every text the capture holds, with the channel it came from.</summary>
    public static IEnumerable<(string Channel, string Text)> Texts(TelemetryCapture capture)
    {
        foreach (var record in capture.Logs)
        {
            yield return ("log message", record.Message);
            // The fake provider keeps a structured state as its values' text, any other state as it was logged.
            if (record.State is IEnumerable<KeyValuePair<string, string?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    yield return ("log state", $"{key}={value}");
                }
            }
            else if (record.State is { } state)
            {
                yield return ("log state", state.ToString() ?? string.Empty);
            }

            foreach (var scope in record.Scopes)
            {
                foreach (var text in ScopeTexts(scope))
                {
                    yield return ("log scope", text);
                }
            }

            if (record.Exception is { } exception)
            {
                yield return ("log exception", exception.ToString());
            }
        }

        foreach (var record in capture.OpenTelemetryLogs)
        {
            yield return ("OpenTelemetry log message", record.FormattedMessage ?? string.Empty);
            yield return ("OpenTelemetry log message", record.Body ?? string.Empty);
            yield return ("OpenTelemetry log event", record.EventId.Name ?? string.Empty);
            foreach (var (key, value) in record.Attributes ?? [])
            {
                yield return ("OpenTelemetry log state", $"{key}={value}");
            }

            var scopes = new List<string>();
            record.ForEachScope((scope, texts) =>
            {
                texts.AddRange(ScopeTexts(scope.Scope));
                foreach (var (key, value) in scope)
                {
                    texts.Add($"{key}={value}");
                }
            }, scopes);
            foreach (var text in scopes)
            {
                yield return ("OpenTelemetry log scope", text);
            }

            if (record.Exception is { } exception)
            {
                yield return ("OpenTelemetry log exception", exception.ToString());
            }
        }

        foreach (var span in capture.Spans)
        {
            yield return ("span name", span.DisplayName + " " + span.OperationName);
            yield return ("span status", span.Status + " " + span.StatusDescription);
            foreach (var (key, value) in span.TagObjects)
            {
                yield return ("span attribute", $"{key}={Text(value)}");
            }

            foreach (var (key, value) in span.Baggage)
            {
                yield return ("span baggage", $"{key}={value}");
            }

            foreach (var spanEvent in span.Events)
            {
                yield return ("span event", spanEvent.Name);
                foreach (var (key, value) in spanEvent.Tags)
                {
                    yield return ("span event", $"{key}={Text(value)}");
                }
            }

            foreach (var link in span.Links)
            {
                foreach (var (key, value) in link.Tags ?? [])
                {
                    yield return ("span link", $"{key}={Text(value)}");
                }
            }
        }

        foreach (var metric in capture.Metrics)
        {
            yield return ("metric name", metric.Name + " " + metric.Description);
            foreach (var point in metric.MetricPoints)
            {
                foreach (var (key, value) in point.Tags)
                {
                    yield return ("metric dimension", $"{metric.Name} {key}={Text(value)}");
                }
            }
        }
    }

    /// <summary>How many log records of each level the capture holds (both providers together).</summary>
    public static IReadOnlyDictionary<Microsoft.Extensions.Logging.LogLevel, int> LogLevels(TelemetryCapture capture) =>
        capture.Logs.Select(r => r.Level).Concat(capture.OpenTelemetryLogs.Select(r => r.LogLevel))
            .GroupBy(level => level).ToDictionary(g => g.Key, g => g.Count());

    private static IEnumerable<string> ScopeTexts(object? scope)
    {
        if (scope is null)
        {
            yield break;
        }

        yield return scope.ToString() ?? string.Empty;
        if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            foreach (var (key, value) in pairs)
            {
                yield return $"{key}={Text(value)}";
            }
        }
    }

    private static string Text(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        System.Collections.IEnumerable items => string.Join(",", items.Cast<object?>().Select(item => item?.ToString())),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>Up to 80 characters either side of the secret, with the secret itself masked.</summary>
    private static string Excerpt(string text, string form)
    {
        var at = text.IndexOf(form, StringComparison.Ordinal);
        var start = Math.Max(0, at - 80);
        var end = Math.Min(text.Length, at + form.Length + 80);
        return text[start..end].Replace(form, "[SECRET]", StringComparison.Ordinal);
    }
}
