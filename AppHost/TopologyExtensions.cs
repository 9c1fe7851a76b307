using Gateway.Apim.Model;

namespace AppHost;

/// <summary>Turns the topology of <c>apim/</c> into resources: one mock per account, wired into the gateway.</summary>
internal static class TopologyExtensions
{
    /// <summary>
    /// One MockOpenAI per account, with its region and deployments, verifying tokens with <paramref name="publicKeyPem"/>.
    /// The AppHost's own <c>MockOpenAI:Latency</c> settings, when given, apply to every account. Its WireMock admin API
    /// answers user <c>admin</c> with <paramref name="adminPassword"/>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddMockAccount(this IDistributedApplicationBuilder builder, AccountDefinition account, string publicKeyPem, IResourceBuilder<ParameterResource> adminPassword)
    {
        // No launch profile, and no proxy in front: a port of its own, chosen once per run, so that a mock that stops
        // refuses connections at once (a proxy would accept them and never answer) and one that restarts comes back
        // where the gateway expects it.
        var mock = builder.AddProject<Projects.MockOpenAI>(account.Name, launchProfileName: null)
            .WithHttpEndpoint(port: FreeLoopbackPort(), name: "http", isProxied: false)
            .WithEnvironment(ConfigurationNames.MockAccount, account.Name)
            .WithEnvironment(ConfigurationNames.MockRegion, account.Region)
            .WithEnvironment(ConfigurationNames.MockPublicKey, publicKeyPem)
            .WithEnvironment(ConfigurationNames.MockAdminPassword, adminPassword)
            .WithHttpHealthCheck("/health");
        foreach (var setting in builder.Configuration.GetSection(ConfigurationNames.MockOpenAILatency).GetChildren())
        {
            mock.WithEnvironment(ConfigurationNames.MockLatency(setting.Key), setting.Value);
        }

        foreach (var deployment in account.Deployments)
        {
            mock.WithEnvironment(ConfigurationNames.MockDeploymentModel(deployment.Name), deployment.Model.Name)
                .WithEnvironment(ConfigurationNames.MockDeploymentVersion(deployment.Name), deployment.Model.Version)
                .WithEnvironment(ConfigurationNames.MockDeploymentCapacity(deployment.Name), deployment.Sku.Capacity.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        return mock;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Points every single backend of the account at its mock (<c>Apim:Backends:{id}:Url</c>); pools name no account.</summary>
    public static IResourceBuilder<ProjectResource> WithBackendsOf(this IResourceBuilder<ProjectResource> gateway, Topology topology, AccountDefinition account, IResourceBuilder<ProjectResource> mock)
    {
        var endpoint = mock.GetEndpoint("http");
        foreach (var backend in topology.Backends.Where(b => !b.IsPool && string.Equals(b.Account, account.Name, StringComparison.OrdinalIgnoreCase)))
        {
            // The topology's validation guarantees a single backend an absolute URL.
            gateway.WithEnvironment(ConfigurationNames.GatewayBackendUrl(backend.Id), ReferenceExpression.Create($"{endpoint}{new Uri(backend.Url!).AbsolutePath.TrimEnd('/')}"));
        }

        return gateway.WithReference(endpoint).WaitFor(mock);
    }

    /// <summary>Each subscription's keys as secret parameters, generated once and kept in the AppHost's user secrets.</summary>
    public static IResourceBuilder<ProjectResource> WithSubscriptionKeys(this IResourceBuilder<ProjectResource> gateway, IReadOnlyList<SubscriptionDefinition> subscriptions)
    {
        var builder = gateway.ApplicationBuilder;
        foreach (var subscription in subscriptions)
        {
            var primary = builder.AddParameter(PrimaryKeyParameter(subscription.Name), new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
            var secondary = builder.AddParameter($"{subscription.Name}-secondary-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
            gateway.WithEnvironment(ConfigurationNames.GatewayPrimaryKey(subscription.Name), primary)
                .WithEnvironment(ConfigurationNames.GatewaySecondaryKey(subscription.Name), secondary);
        }

        return gateway;
    }

    /// <summary>The name of the secret parameter holding a subscription's primary key.</summary>
    public static string PrimaryKeyParameter(string subscription) => $"{subscription}-primary-key";
}
