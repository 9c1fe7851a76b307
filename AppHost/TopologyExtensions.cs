using Gateway.Apim.Model;

namespace AppHost;

/// <summary>
/// Turns the topology of <c>apim/</c> into resources: one mock per account (Azure OpenAI or Content Safety), wired into
/// the gateway.
/// </summary>
internal static class TopologyExtensions
{
    /// <summary>
    /// One MockOpenAI per account, with its region and deployments, verifying tokens with <paramref name="publicKeyPem"/>.
    /// The AppHost's own <c>MockOpenAI:Latency</c> settings, when given, apply to every account. Its WireMock admin API
    /// answers user <c>admin</c> with <paramref name="adminPassword"/>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddMockAccount(this IDistributedApplicationBuilder builder, AccountDefinition account, string publicKeyPem, IResourceBuilder<ParameterResource> adminPassword)
    {
        var mock = builder.AddMock<Projects.MockOpenAI>(account.Name, publicKeyPem)
            .WithEnvironment(ConfigurationNames.MockAccount, account.Name)
            .WithEnvironment(ConfigurationNames.MockRegion, account.Region)
            .WithEnvironment(ConfigurationNames.MockAdminPassword, adminPassword);
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

    /// <summary>
    /// One MockContentSafety per Content Safety account, verifying tokens with <paramref name="publicKeyPem"/>, on a port
    /// of its own as the Azure OpenAI mocks are. Its WireMock admin API answers user <c>admin</c> with
    /// <paramref name="adminPassword"/>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddMockContentSafetyAccount(this IDistributedApplicationBuilder builder, ContentSafetyAccountDefinition account, string publicKeyPem, IResourceBuilder<ParameterResource> adminPassword) =>
        builder.AddMock<Projects.MockContentSafety>(account.Name, publicKeyPem)
            .WithEnvironment(ConfigurationNames.MockContentSafetyAccount, account.Name)
            .WithEnvironment(ConfigurationNames.MockContentSafetyAdminPassword, adminPassword);

    /// <summary>
    /// A mock account's process, verifying tokens with <paramref name="publicKeyPem"/>. No launch profile, and no proxy in
    /// front: a port of its own, chosen once per run, so that a mock that stops refuses connections at once (a proxy would
    /// accept them and never answer) and one that restarts comes back where the gateway expects it.
    /// </summary>
    private static IResourceBuilder<ProjectResource> AddMock<TProject>(this IDistributedApplicationBuilder builder, string name, string publicKeyPem)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: null)
            .WithHttpEndpoint(port: FreeLoopbackPort(), name: "http", isProxied: false)
            .WithEnvironment(ConfigurationNames.MockPublicKey, publicKeyPem)
            .WithHttpHealthCheck("/health");

    private static int FreeLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Points every single backend of the account (of either kind) at its mock (<c>Apim:Backends:{id}:Url</c>), keeping
    /// the URL's path: <c>/openai</c>, an embeddings backend's whole <c>/openai/deployments/{name}/embeddings</c>, nothing
    /// for a Content Safety account's root. Pools name no account.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithBackendsOf(this IResourceBuilder<ProjectResource> gateway, Topology topology, string account, IResourceBuilder<ProjectResource> mock)
    {
        var endpoint = mock.GetEndpoint("http");
        foreach (var backend in topology.SinglesOf(account))
        {
            gateway.WithEnvironment(ConfigurationNames.GatewayBackendUrl(backend.Id), ReferenceExpression.Create($"{endpoint}{backend.UrlPath}"));
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
