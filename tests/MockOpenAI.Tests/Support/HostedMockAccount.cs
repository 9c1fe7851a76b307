using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using MockOpenAI.Server;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// A mock account as its Program builds it (the shipped appsettings.json, the service defaults, then the account) on
/// a loopback port of its own, with the test's settings over its configuration and the test's services added last.
/// </summary>
internal sealed class HostedMockAccount : IAsyncDisposable
{
    private readonly IHost _host;

    private HostedMockAccount(IHost host, string url)
    {
        _host = host;
        Url = url;
    }

    /// <summary>The account's base URL, without a trailing slash.</summary>
    public string Url { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<HostedMockAccount> StartAsync(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection> testServices)
    {
        var url = $"http://127.0.0.1:{FreePort()}";
        var repoRoot = typeof(HostedMockAccount).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            ApplicationName = "MockOpenAI",
            ContentRootPath = Path.Combine(repoRoot, "MockOpenAI"),
        });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Configuration["urls"] = url;
        builder.AddServiceDefaults(extraMeters: [MockMetrics.MeterName], extraSources: [MockTelemetry.SourceName]);
        builder.AddMockAccount();
        testServices(builder.Services);
        var host = builder.Build();
        await host.StartAsync().WaitAsync(TestTimeouts.Request);
        return new HostedMockAccount(host, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync().WaitAsync(TestTimeouts.Request);
        _host.Dispose();
    }

    /// <summary>A loopback port nothing listens on (it was free a moment ago).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
