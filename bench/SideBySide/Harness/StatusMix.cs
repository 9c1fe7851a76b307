using System.Globalization;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// Every answer a target gave (status code and count), every request that got none (socket errors) and every streamed
/// answer that ended before <c>data: [DONE]</c>.
/// </summary>
internal sealed class StatusMix
{
    private readonly SortedDictionary<string, long> _counts = new(StringComparer.Ordinal);

    public long SocketErrors { get; private set; }

    public long IncompleteStreams { get; private set; }

    /// <summary>Whether every request got a complete 2xx.</summary>
    public bool AllSuccessful => SocketErrors == 0 && IncompleteStreams == 0 && _counts.Keys.All(status => status.StartsWith('2'));

    public void Add(WrkResult result)
    {
        foreach (var (status, count) in result.Statuses)
        {
            Add(status, count);
        }

        SocketErrors += result.SocketErrors;
    }

    public void Add(int status, long count = 1) => Add(status.ToString(CultureInfo.InvariantCulture), count);

    public void AddSocketError() => SocketErrors++;

    public void AddIncompleteStream() => IncompleteStreams++;

    public void Add(StatusMix other)
    {
        foreach (var (status, count) in other._counts)
        {
            Add(status, count);
        }

        SocketErrors += other.SocketErrors;
        IncompleteStreams += other.IncompleteStreams;
    }

    public override string ToString()
    {
        var parts = _counts.Select(c => $"{c.Key}: {c.Value.ToString(CultureInfo.InvariantCulture)}").ToList();
        if (SocketErrors > 0)
        {
            parts.Add($"socket errors: {SocketErrors.ToString(CultureInfo.InvariantCulture)}");
        }

        if (IncompleteStreams > 0)
        {
            parts.Add($"streams without [DONE]: {IncompleteStreams.ToString(CultureInfo.InvariantCulture)}");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    private void Add(string status, long count) => _counts[status] = _counts.GetValueOrDefault(status) + count;
}
