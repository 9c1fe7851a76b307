using System.Diagnostics;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// Time to the first event of a streamed chat completion: requests one after another on one
/// kept-alive connection, each timed from sending to reading its first <c>data:</c> line, then read to <c>[DONE]</c>.
/// The same client and code for every target, so its own cost is the same in each figure.
/// </summary>
internal sealed class StreamProbe(HttpClient http, TargetLauncher launcher)
{
    private const string StreamBody = """{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":16,"stream":true}""";

    private long _kept;

    /// <summary>How many streams <see cref="KeepStreamingAsync"/> has made so far, over all its callers.</summary>
    public long StreamsKept => Interlocked.Read(ref _kept);

    /// <summary>The median time to first event, in milliseconds, after <paramref name="warmup"/> untimed requests.</summary>
    public async Task<double> MedianFirstEventAsync(Uri target, int warmup, int count, StatusMix mix)
    {
        for (var i = 0; i < warmup; i++)
        {
            await OneAsync(target, mix);
        }

        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            if (await OneAsync(target, mix) is { } ms)
            {
                times.Add(ms);
            }
        }

        return Stats.Median(times);
    }

    /// <summary>
    /// Streamed requests one after another until <paramref name="stop"/> (the one in flight is read to its end): one of
    /// the memory mode's concurrent streams, counted in <see cref="StreamsKept"/>.
    /// </summary>
    public async Task KeepStreamingAsync(Uri target, StatusMix mix, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await OneAsync(target, mix);
            Interlocked.Increment(ref _kept);
        }
    }

    private async Task<double?> OneAsync(Uri target, StatusMix mix)
    {
        using var request = launcher.ChatRequest(target, StreamBody);
        var clock = Stopwatch.StartNew();
        try
        {
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            mix.Add((int)response.StatusCode);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            double? first = null;
            var done = false;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.StartsWith("data:", StringComparison.Ordinal))
                {
                    first ??= clock.Elapsed.TotalMilliseconds;
                    done |= line == "data: [DONE]";
                }
            }

            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            if (!done)
            {
                mix.AddIncompleteStream();
                return null;
            }

            return first;
        }
        catch (HttpRequestException)
        {
            mix.AddSocketError();
            return null;
        }
    }
}
