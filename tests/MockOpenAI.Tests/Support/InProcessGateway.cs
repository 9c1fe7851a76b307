using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// The gateway as its Program builds it, on a real Kestrel port, with <paramref name="settings"/> as its configuration
/// from the start (Program.cs and the service defaults read some of it before the host is built) and
/// <paramref name="testServices"/> added last.
/// </summary>
internal sealed class InProcessGateway(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection> testServices)
    : WebApplicationFactory<Gateway.Pipeline.GatewayHandler>
{
    public InProcessGateway Start()
    {
        UseKestrel(0);
        StartServer();
        return this;
    }

    protected override IHost CreateHost(IHostBuilder builder)
    {
        // Host configuration reaches the entry point as command-line arguments, so the builder in Program.cs sees it.
        builder.ConfigureHostConfiguration(configuration => configuration.AddInMemoryCollection(settings));
        return base.CreateHost(builder);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder) => builder.ConfigureTestServices(testServices);
}
