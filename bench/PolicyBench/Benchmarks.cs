using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gateway.Apim;
using Gateway.Pipeline;
using Gateway.Policies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gateway.Bench;

/// <summary>
/// One request through the whole gateway handler (API match, subscription key, the policy's sections, writing the
/// response) on an in-memory HttpContext: an expression-heavy policy against a policy that only returns.
/// </summary>
[MemoryDiagnoser]
public class RequestBenchmarks : IDisposable
{
    private const string Key = "bench-primary-key-000000000000001";
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"hello"}],"max_tokens":16}""");
    private Host _returnOnly = null!;
    private Host _expressionHeavy = null!;

    [GlobalSetup]
    public void Setup()
    {
        _returnOnly = new Host("<policies><inbound><return-response /></inbound></policies>");
        _expressionHeavy = new Host(PolicyTexts.ExpressionHeavy);
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

    /// <summary>A gateway built the way Program.cs builds it, over a copy of apim/ whose API policy is given.</summary>
    private sealed class Host : IDisposable
    {
        private readonly string _folder;
        private readonly WebApplication _app;
        private readonly GatewayHandler _handler;
        private readonly RSA _key = RSA.Create(2048);

        public Host(string policy)
        {
            _folder = Directory.CreateTempSubdirectory("policybench-").FullName;
            var source = Path.Combine(typeof(Host).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!, "apim");
            foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            {
                Directory.CreateDirectory(directory.Replace(source, _folder, StringComparison.Ordinal));
            }

            foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            {
                File.Copy(file, file.Replace(source, _folder, StringComparison.Ordinal));
            }

            File.WriteAllText(Path.Combine(_folder, "apis", "azure-openai", "policy.xml"), policy);
            var builder = WebApplication.CreateBuilder();
            builder.Logging.ClearProviders();
            builder.Configuration["Apim:Path"] = _folder;
            builder.Configuration["Apim:WatchForChanges"] = "false";
            builder.Configuration["Apim:NamedValues:managed-identity-client-id"] = "bench";
            builder.Configuration["Apim:Subscriptions:chat-app:PrimaryKey"] = Key;
            builder.Configuration["LocalIdentity:SigningKey"] = _key.ExportPkcs8PrivateKeyPem();
            builder.AddGateway();
            _app = builder.Build();
            _handler = _app.Services.GetRequiredService<GatewayHandler>();
        }

        public Task SendAsync()
        {
            var http = new DefaultHttpContext();
            http.Request.Method = "POST";
            http.Request.Scheme = "http";
            http.Request.Host = new HostString("localhost", 5080);
            http.Request.Path = "/openai/deployments/gpt-4o/chat/completions";
            http.Request.QueryString = new QueryString("?api-version=2024-10-21");
            http.Request.Headers["api-key"] = Key;
            http.Request.Headers.ContentType = "application/json";
            http.Request.Body = new MemoryStream(Body, writable: false);
            http.Response.Body = Stream.Null;
            return _handler.HandleAsync(http);
        }

        public void Dispose()
        {
            ((IDisposable)_app).Dispose();
            _key.Dispose();
            Directory.Delete(_folder, recursive: true);
        }
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
        using var document = PolicyLoader.Load(PolicyTexts.TwoHundredLines, "policy.xml", "api", _namedValues);
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
