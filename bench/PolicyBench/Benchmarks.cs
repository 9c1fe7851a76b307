using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Apim;
using Gateway.Policies;

namespace Gateway.Bench;

/// <summary>
/// One request through the whole gateway handler (API match, subscription key, the policy's sections, writing the
/// response) on an in-memory HttpContext: an expression-heavy policy against a policy that only returns.
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks : IDisposable
{
    private BenchHost _returnOnly = null!;
    private BenchHost _expressionHeavy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _returnOnly = new BenchHost("<policies><inbound><return-response /></inbound></policies>");
        _expressionHeavy = new BenchHost(PolicyTexts.ExpressionHeavy);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _returnOnly?.Dispose();
        _expressionHeavy?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public Task ReturnOnly() => _returnOnly.SendAsync();

    [Benchmark]
    public Task ExpressionHeavy() => _expressionHeavy.SendAsync();
}

/// <summary>
/// The policies of the side-by-side benchmark (docs/performance.md), in memory: the gateway's own CPU and allocations
/// per request without the network, against the forward-only policy measured in the same run.
/// </summary>
[MemoryDiagnoser]
public class ShippedPolicyBenchmarks : IDisposable
{
    private BenchHost _forwardOnly = null!;
    private BenchHost _article = null!;
    private BenchHost _shipped = null!;

    [GlobalSetup]
    public void Setup()
    {
        _forwardOnly = BenchHost.WithOverlay("bench/SideBySide/policies/forward-only");
        _article = BenchHost.WithOverlay("examples/article-random");
        _shipped = new BenchHost(policy: null);
        foreach (var host in new[] { _forwardOnly, _article, _shipped })
        {
            host.ExpectAsync(200).GetAwaiter().GetResult();
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _forwardOnly?.Dispose();
        _article?.Dispose();
        _shipped?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark(Baseline = true)]
    public Task ForwardOnly() => _forwardOnly.SendAsync();

    [Benchmark]
    public Task ArticleRandom() => _article.SendAsync();

    [Benchmark]
    public Task Shipped() => _shipped.SendAsync();

    /// <summary>Sends requests through one policy for <paramref name="duration"/>, one at a time, and prints the rate.</summary>
    public static async Task<int> LoopAsync(string policy, TimeSpan duration, bool sampleAllocations = false)
    {
        using var host = policy switch
        {
            "shipped" => new BenchHost(policy: null),
            "article" => BenchHost.WithOverlay("examples/article-random"),
            "forward-only" => BenchHost.WithOverlay("bench/SideBySide/policies/forward-only"),
            _ when Directory.Exists(policy) => BenchHost.WithOverlay(Path.GetFullPath(policy)),
            _ => null,
        };
        if (host is null)
        {
            await Console.Error.WriteLineAsync("loop: the policy is shipped, article, forward-only or a folder copied over apim/");
            return 2;
        }

        await host.ExpectAsync(200);
        Console.WriteLine($"pid {Environment.ProcessId}: {policy} for {duration.TotalSeconds} s");
        using var sampler = sampleAllocations ? new AllocationSampler() : null;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        long requests = 0;
        while (clock.Elapsed < duration)
        {
            await host.SendAsync();
            requests++;
        }

        cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        Console.WriteLine($"{requests} requests, {clock.Elapsed.TotalMicroseconds / requests:F1} us each, {cpu.TotalMicroseconds / requests:F1} us of CPU each (all threads), {allocated / requests:N0} bytes allocated each");
        if (sampler is not null)
        {
            sampler.Report(Console.Out, allocated / requests);
        }

        return 0;
    }
}

/// <summary>Loading (parsing and compiling) a 200-line expression-heavy policy, as the gateway does at start and on reload.</summary>
[MemoryDiagnoser]
public class LoadBenchmarks
{
    private readonly NamedValues _namedValues = new(new Dictionary<string, string?>());

    [Benchmark]
    public void Load200LinePolicy()
    {
        using var document = PolicyLoader.Load(PolicyTexts.TwoHundredLines, "policy.xml", PolicyScope.Api, _namedValues);
    }
}

/// <summary>The policies the benchmarks run.</summary>
internal static class PolicyTexts
{
    /// <summary>Reads the body, keeps JArray state in the cache, loops, branches and sets headers.</summary>
    public const string ExpressionHeavy = """
        <policies>
          <inbound>
            <set-variable name="body" value="@(context.Request.Body.As<JObject>(preserveContent: true))" />
            <set-variable name="maxTokens" value="@(((JObject)context.Variables["body"]).Value<int?>("max_tokens") ?? 16)" />
            <cache-lookup-value key="backends" variable-name="backends" />
            <choose>
              <when condition="@(!context.Variables.ContainsKey("backends"))">
                <set-variable name="backends" value="@{
                  var list = new JArray();
                  foreach (var id in new[] { "aoai-eastus2", "aoai-swedencentral", "aoai-japaneast" })
                  {
                    list.Add(new JObject(new JProperty("id", id), new JProperty("priority", id.Length % 3), new JProperty("throttled", false)));
                  }
                  return list;
                }" />
                <cache-store-value key="backends" value="@((JArray)context.Variables["backends"])" duration="60" />
              </when>
            </choose>
            <set-variable name="backend-id" value="@{
              var backends = (JArray)context.Variables["backends"];
              var best = backends.Where(b => !b.Value<bool>("throttled")).OrderBy(b => b.Value<int>("priority")).First();
              return best.Value<string>("id");
            }" />
            <set-header name="x-backend" exists-action="override"><value>@((string)context.Variables["backend-id"])</value></set-header>
            <set-header name="x-max-tokens" exists-action="override"><value>@(context.Variables.GetValueOrDefault<int>("maxTokens").ToString())</value></set-header>
            <return-response>
              <set-status code="200" reason="OK" />
              <set-header name="x-chosen" exists-action="override"><value>@((string)context.Variables["backend-id"])</value></set-header>
            </return-response>
          </inbound>
        </policies>
        """;

    /// <summary>About 200 lines: 48 set-variable/choose blocks, each with expressions.</summary>
    public static readonly string TwoHundredLines = Build();

    private static string Build()
    {
        var text = new StringBuilder("<policies>\n  <inbound>\n");
        for (var i = 0; i < 48; i++)
        {
            text.Append("    <set-variable name=\"v").Append(i).Append("\" value=\"@(context.Request.Headers.GetValueOrDefault(&quot;x-").Append(i).Append("&quot;, &quot;").Append(i).Append("&quot;).Length + ").Append(i).Append(")\" />\n");
            text.Append("    <choose>\n      <when condition=\"@((int)context.Variables[&quot;v").Append(i).Append("&quot;] > ").Append(i).Append(")\">\n");
            text.Append("        <set-header name=\"x-h").Append(i).Append("\" exists-action=\"override\"><value>@(&quot;").Append(i).Append("&quot;)</value></set-header>\n      </when>\n    </choose>\n");
        }

        return text.Append("  </inbound>\n</policies>\n").ToString();
    }
}
