using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Gateway.Apim.Model;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// Starts the targets, each its own process on its own loopback port, and waits until each answers a chat completion.
/// The gateway is started as the AppHost starts it (<c>Identity:Provider=local</c> with a signing key made for the run,
/// the subscription key and backend URLs from configuration), with every single backend of the topology pointed at the
/// trivial backend and the token limit raised so that nothing is refused.
/// </summary>
internal sealed class TargetLauncher(string runDirectory, HttpClient http, bool pin = false)
{
    public const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    public const string ChatBody = """{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":16}""";

    /// <summary><c>subscription-tokens-per-minute</c> for the run: the largest the policy accepts.</summary>
    public const string TokensPerMinute = "2000000000";

    private readonly string _signingKey = NewSigningKey();

    /// <summary>The subscription key of <c>chat-app</c> for this run (the other targets ignore it).</summary>
    public string SubscriptionKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The gateway's admin key (<c>Gateway:AdminKey</c>), as the AppHost gives it one.</summary>
    public string AdminKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    /// <summary>The trivial backend's URL, once started.</summary>
    public Uri? BackendUrl { get; private set; }

    /// <summary>Starts <paramref name="target"/>; <paramref name="backendOptions"/> go to the trivial backend's command line.</summary>
    public async Task<RunningTarget> StartAsync(Target target, string label, params string[] backendOptions)
    {
        var port = FreePort();
        var url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var start = target.Kind switch
        {
            TargetKind.Backend => Self(SideBySide.Backend.TrivialBackend.Role, url, backendOptions),
            TargetKind.Yarp => Self(Yarp.BareYarp.Role, url, $"--Backend={RequireBackend()}"),
            _ => Gateway(url, ApimFolder(target), target.GatewayDll),
        };
        if (pin)
        {
            start.On(target.Kind == TargetKind.Backend ? CpuPinning.LoadCpu : CpuPinning.TargetCpu);
        }

        var process = TargetProcess.Start(start, Path.Combine(runDirectory, $"{label}.log"));
        var running = new RunningTarget(target, process, url);
        try
        {
            await WaitReadyAsync(running);
        }
        catch
        {
            process.Dispose();
            throw;
        }

        if (target.Kind == TargetKind.Backend)
        {
            BackendUrl = url;
        }

        return running;
    }

    /// <summary>
    /// After a wrk run on a gateway: closes the circuit breakers (the admin endpoint's <c>breakers</c> scope; counters and
    /// caches stay). wrk ends a run by closing connections with requests in flight; the gateway counts a request cut off
    /// before its body was read as the backend's connection failure, which trips the backend's breaker for 10 s and
    /// would answer the next load with 503s (docs/performance.md). The pause lets those requests end first.
    /// </summary>
    public async Task AfterLoadAsync(RunningTarget running)
    {
        if (running.Target.Kind != TargetKind.Gateway)
        {
            return;
        }

        await Task.Delay(TimeSpan.FromMilliseconds(500));
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(running.Url, "/_gateway/admin/reset?scope=breakers"));
        request.Headers.Add("x-admin-key", AdminKey);
        using var response = await http.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{running.Target.Title}: resetting the breakers answered {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>One chat completion through <paramref name="target"/>, as wrk sends it.</summary>
    public HttpRequestMessage ChatRequest(Uri target, string body = ChatBody)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(target, ChatPath))
        {
            Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", SubscriptionKey);
        return request;
    }

    private async Task WaitReadyAsync(RunningTarget running)
    {
        var clock = Stopwatch.StartNew();
        string last = "no answer";
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (running.Process.HasExited)
            {
                throw new InvalidOperationException($"{running.Target.Title} exited at start:\n{running.Process.Tail()}");
            }

            try
            {
                using var request = ChatRequest(running.Url);
                using var response = await http.SendAsync(request);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }

                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
            }
            catch (HttpRequestException ex)
            {
                last = ex.Message;
            }

            await Task.Delay(200);
        }

        throw new InvalidOperationException($"{running.Target.Title} did not answer 2xx within 120 s ({last}):\n{running.Process.Tail()}");
    }

    private Uri RequireBackend() => BackendUrl ?? throw new InvalidOperationException("Start the backend first.");

    /// <summary>This executable in another role.</summary>
    private ProcessStartInfo Self(string role, Uri url, params string[] more)
    {
        var start = Dotnet(Repo.SelfDll);
        start.ArgumentList.Add(role);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(url.ToString());
        foreach (var arg in more)
        {
            start.ArgumentList.Add(arg);
        }

        // An empty content root: no appsettings.json of a referenced project is read.
        start.WorkingDirectory = runDirectory;
        return start;
    }

    private ProcessStartInfo Gateway(Uri url, string apimPath, string gatewayDll)
    {
        if (!File.Exists(gatewayDll))
        {
            throw new InvalidOperationException($"No gateway build at {gatewayDll}: run bench/side-by-side.sh, which builds it in {Repo.Configuration}.");
        }

        var start = Dotnet(gatewayDll);
        // The gateway's own folder as content root: its appsettings.json (log levels, Kestrel limits, the local
        // managed-identity client id) applies, as under the AppHost.
        start.WorkingDirectory = Path.GetDirectoryName(gatewayDll)!;
        start.Environment["Identity__Provider"] = "local";
        start.Environment["LocalIdentity__SigningKey"] = _signingKey;
        start.Environment["Gateway__AdminKey"] = AdminKey;
        string[] settings =
        [
            "--urls", url.ToString(),
            $"--Apim:Path={apimPath}",
            "--Apim:WatchForChanges=false",
            $"--Apim:Subscriptions:chat-app:PrimaryKey={SubscriptionKey}",
            $"--Apim:NamedValues:subscription-tokens-per-minute={TokensPerMinute}",
        ];
        foreach (var setting in settings)
        {
            start.ArgumentList.Add(setting);
        }

        var backend = RequireBackend().GetLeftPart(UriPartial.Authority);
        foreach (var single in Topology.Load(apimPath).Backends.Where(b => !b.IsPool))
        {
            start.ArgumentList.Add($"--Apim:Backends:{single.Id}:Url={backend}{single.UrlPath}");
        }

        return start;
    }

    /// <summary>The apim folder of a gateway target: <c>apim/</c>, or a copy of it with the target's overlay on top (as the README runs the examples).</summary>
    private string ApimFolder(Target target)
    {
        if (target.ApimOverlay is null)
        {
            return target.Checkout is null ? Repo.Apim : Path.Combine(target.Checkout, "apim");
        }

        var folder = Path.Combine(runDirectory, "apim-" + target.Key);
        if (!Directory.Exists(folder))
        {
            Copy(Repo.Apim, folder);
            Copy(target.ApimOverlay, folder);
        }

        return folder;
    }

    private static void Copy(string from, string to)
    {
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
        {
            var destination = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    /// <summary>
    /// <c>dotnet some.dll</c> (the app runs in that process, so its pid is the app's), in an environment without the
    /// variables that would change what is measured: OpenTelemetry (so nothing is exported), GC settings, ASP.NET Core's
    /// own (URLs, environment).
    /// </summary>
    private static ProcessStartInfo Dotnet(string dll)
    {
        var start = new ProcessStartInfo(DotnetHost());
        start.ArgumentList.Add(dll);
        foreach (var name in start.Environment.Keys.ToList())
        {
            if (name.StartsWith("OTEL_", StringComparison.Ordinal)
                || name.StartsWith("DOTNET_gc", StringComparison.OrdinalIgnoreCase)
                || name.StartsWith("ASPNETCORE_", StringComparison.Ordinal)
                || name is "DOTNET_ENVIRONMENT" or "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL")
            {
                start.Environment.Remove(name);
            }
        }

        return start;
    }

    private static string DotnetHost() =>
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string NewSigningKey()
    {
        using var rsa = RSA.Create(2048);
        return rsa.ExportPkcs8PrivateKeyPem();
    }
}

/// <summary>A started target and where it listens.</summary>
internal sealed record RunningTarget(Target Target, TargetProcess Process, Uri Url) : IDisposable
{
    public void Dispose() => Process.Dispose();
}
