namespace Gateway.Tokens;

/// <summary>
/// <c>token-quota-period</c>: a fixed window that starts at the UTC time truncated to its unit (hour, day, week, month,
/// year) and ends where the next one starts.
/// </summary>
internal enum TokenQuotaPeriod
{
    Hourly,
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

/// <summary>Where a quota period starts and ends.</summary>
internal static class TokenQuotaPeriods
{
    public static bool TryParse(string? text, out TokenQuotaPeriod period) =>
        Enum.TryParse(text, ignoreCase: true, out period) && Enum.IsDefined(period) && !int.TryParse(text, out _);

    /// <summary>The period that holds <paramref name="now"/>. Weeks start on Monday (ISO 8601).</summary>
    public static (DateTimeOffset Start, DateTimeOffset End) At(TokenQuotaPeriod period, DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var day = new DateTimeOffset(utc.Year, utc.Month, utc.Day, 0, 0, 0, TimeSpan.Zero);
        return period switch
        {
            TokenQuotaPeriod.Hourly => Span(day.AddHours(utc.Hour), start => start.AddHours(1)),
            TokenQuotaPeriod.Daily => Span(day, start => start.AddDays(1)),
            TokenQuotaPeriod.Weekly => Span(day.AddDays(-(((int)utc.DayOfWeek + 6) % 7)), start => start.AddDays(7)),
            TokenQuotaPeriod.Monthly => Span(new DateTimeOffset(utc.Year, utc.Month, 1, 0, 0, 0, TimeSpan.Zero), start => start.AddMonths(1)),
            _ => Span(new DateTimeOffset(utc.Year, 1, 1, 0, 0, 0, TimeSpan.Zero), start => start.AddYears(1)),
        };
    }

    private static (DateTimeOffset, DateTimeOffset) Span(DateTimeOffset start, Func<DateTimeOffset, DateTimeOffset> next) => (start, next(start));
}
