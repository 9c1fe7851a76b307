using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using Gateway.Identity;
using Microsoft.Extensions.Options;

// MockBench: load on one running MockOpenAI account, from outside its process, on loopback only.
//   dotnet run -c Release --project bench/MockBench -- <mock-url> <signing-key.pem> [mock-pid]
// 1. throughput: non-streamed chat completions on deployment gpt-4o, 16 at a time for 10 s (give it zero latency).
// 2. streams: on deployment gpt-4o-paced (give it a per-token time), one streamed completion alone (the baseline),
//    then 200 at once; the report gives the ratio of the concurrent durations to the baseline, and the mock's thread
//    count while the 200 are open (with its pid). docs/mock.md has the exact command lines.
var url = new Uri(args.Length > 0 ? args[0] : "http://127.0.0.1:5081");
var keyFile = args.Length > 1 ? args[1] : "local-identity.pem";
int? pid = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : null;

var identity = Options.Create(new LocalIdentityOptions { SigningKeyFile = keyFile });
using var signingKey = new LocalSigningKey(identity);
var issuer = new LocalTokenIssuer(signingKey, identity, TimeProvider.System);
var token = (await issuer.GetTokenAsync("https://cognitiveservices.azure.com", "bench", CancellationToken.None)).Token;
using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 }) { BaseAddress = url, Timeout = TimeSpan.FromMinutes(2) };
http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
const string PacedPath = "/openai/deployments/gpt-4o-paced/chat/completions?api-version=2024-10-21";

// Warm-up.
for (var i = 0; i < 50; i++)
{
    await PlainAsync();
}

// 1. Throughput.
var completed = 0;
var clock = Stopwatch.StartNew();
var until = TimeSpan.FromSeconds(10);
await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
{
    while (clock.Elapsed < until)
    {
        await PlainAsync();
        Interlocked.Increment(ref completed);
    }
}));
Console.WriteLine($"throughput: {completed / clock.Elapsed.TotalSeconds:F0} requests/s ({completed} in {clock.Elapsed.TotalSeconds:F1} s, 16 concurrent)");

// 2. Streams (after one to warm the path up).
await StreamAsync();
var baseline = await StreamAsync();
Console.WriteLine($"stream alone: first chunk {baseline.FirstChunk.TotalMilliseconds:F0} ms, complete {baseline.Total.TotalMilliseconds:F0} ms, {baseline.Chunks} chunks");
var threads = new List<int>();
using var sampling = new CancellationTokenSource();
var sampler = Task.Run(async () =>
{
    while (!sampling.IsCancellationRequested && pid is not null)
    {
        threads.Add(Threads(pid.Value));
        await Task.Delay(100);
    }
});
var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => StreamAsync()));
await sampling.CancelAsync();
await sampler;
var totals = results.Select(r => r.Total.TotalMilliseconds).Order().ToArray();
var firsts = results.Select(r => r.FirstChunk.TotalMilliseconds).Order().ToArray();
Console.WriteLine($"200 streams: all complete {results.All(r => r.Done)}; complete p50 {P(totals, 50):F0} ms, p95 {P(totals, 95):F0} ms, max {totals[^1]:F0} ms; first chunk p50 {P(firsts, 50):F0} ms, p95 {P(firsts, 95):F0} ms");
Console.WriteLine($"ratio to the stream alone: p50 {P(totals, 50) / baseline.Total.TotalMilliseconds:F2}, p95 {P(totals, 95) / baseline.Total.TotalMilliseconds:F2}, max {totals[^1] / baseline.Total.TotalMilliseconds:F2}");
if (threads.Count > 0)
{
    Console.WriteLine($"mock threads while streaming: max {threads.Max()} (before: {threads[0]})");
}

async Task PlainAsync()
{
    using var content = new StringContent("""{"messages":[{"role":"user","content":"hi"}],"max_tokens":16}""", Encoding.UTF8, "application/json");
    using var response = await http.PostAsync(new Uri(ChatPath, UriKind.Relative), content);
    response.EnsureSuccessStatusCode();
    await response.Content.ReadAsByteArrayAsync();
}

async Task<StreamResult> StreamAsync()
{
    var started = Stopwatch.StartNew();
    using var request = new HttpRequestMessage(HttpMethod.Post, PacedPath)
    {
        Content = new StringContent("""{"messages":[{"role":"user","content":"stream"}],"max_tokens":16,"stream":true}""", Encoding.UTF8, "application/json"),
    };
    using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    response.EnsureSuccessStatusCode();
    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
    TimeSpan? first = null;
    var chunks = 0;
    var done = false;
    while (await reader.ReadLineAsync() is { } line)
    {
        if (!line.StartsWith("data: ", StringComparison.Ordinal))
        {
            continue;
        }

        first ??= started.Elapsed;
        chunks++;
        done |= line == "data: [DONE]";
    }

    return new StreamResult(first ?? started.Elapsed, started.Elapsed, chunks, done);
}

static double P(double[] sorted, int percentile) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1)];

static int Threads(int pid) =>
    File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("Threads:", StringComparison.Ordinal))
        .Select(l => int.Parse(l["Threads:".Length..].Trim(), CultureInfo.InvariantCulture)).FirstOrDefault();

internal sealed record StreamResult(TimeSpan FirstChunk, TimeSpan Total, int Chunks, bool Done);
