using System.Globalization;

namespace MockOpenAI.Quota;

/// <summary>The rate-limit headers Azure OpenAI sends, from a quota decision.</summary>
internal static class QuotaHeaders
{
    public static IEnumerable<KeyValuePair<string, string>> Of(QuotaDecision decision)
    {
        yield return new("x-ratelimit-limit-requests", Number(decision.LimitRequests));
        yield return new("x-ratelimit-limit-tokens", Number(decision.LimitTokens));
        yield return new("x-ratelimit-remaining-requests", Number(decision.RemainingRequests));
        yield return new("x-ratelimit-remaining-tokens", Number(decision.RemainingTokens));
        yield return new("x-ratelimit-reset-requests", Duration(decision.ResetRequests));
        yield return new("x-ratelimit-reset-tokens", Duration(decision.ResetTokens));
        if (!decision.Admitted)
        {
            foreach (var header in RetryAfter(decision.RetryAfter))
            {
                yield return header;
            }
        }
    }

    /// <summary><c>Retry-After</c> and <c>retry-after-ms</c> for a wait: all a refusal carries where no quota is kept.</summary>
    public static IEnumerable<KeyValuePair<string, string>> RetryAfter(TimeSpan wait)
    {
        // Whole seconds rounded up, so a client that waits Retry-After always finds the quota free.
        yield return new("Retry-After", Number((int)Math.Ceiling(wait.TotalSeconds)));
        yield return new("retry-after-ms", Number((int)Math.Ceiling(wait.TotalMilliseconds)));
    }

    /// <summary>OpenAI's duration format: <c>850ms</c>, <c>6.5s</c>, <c>1m0s</c>.</summary>
    public static string Duration(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return Number((int)Math.Ceiling(Math.Max(0, value.TotalMilliseconds))) + "ms";
        }

        var seconds = (value.TotalSeconds % 60).ToString("0.###", CultureInfo.InvariantCulture) + "s";
        return value < TimeSpan.FromMinutes(1) ? seconds : Number((int)value.TotalMinutes) + "m" + seconds;
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
