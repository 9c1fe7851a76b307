namespace Gateway.Bench.SideBySide.Harness;

internal static class Stats
{
    /// <summary>The median (the mean of the middle two for an even count); NaN for none.</summary>
    public static double Median(IEnumerable<double> values) => Quantile(values, 0.5);

    /// <summary>The <paramref name="q"/> quantile (0 to 1), interpolated between the two nearest values; NaN for none.</summary>
    public static double Quantile(IEnumerable<double> values, double q)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var at = q * (sorted.Length - 1);
        var below = (int)Math.Floor(at);
        var above = Math.Min(below + 1, sorted.Length - 1);
        var fraction = at - below;

        // Not interpolated when it need not be: 0 × ∞ and ∞ − ∞ are NaN (a round whose bare YARP served nothing gives ∞).
        return fraction == 0 || sorted[above] == sorted[below] ? sorted[below] : sorted[below] + (fraction * (sorted[above] - sorted[below]));
    }
}
