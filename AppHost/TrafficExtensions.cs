using Gateway.Apim.Model;
using Microsoft.Extensions.Configuration;

namespace AppHost;

/// <summary>
/// The traffic generator: a mix of SDK calls through the gateway from every active subscription, so that failover,
/// throttling and token limits can be watched in the dashboard. Stopped until started from the dashboard, unless
/// <c>Traffic:AutoStart</c> is true.
/// </summary>
internal static class TrafficExtensions
{
    /// <summary>
    /// Adds the <c>traffic</c> resource: it waits for <paramref name="gateway"/>, calls it with each active subscription's
    /// primary key (the secret parameters <see cref="TopologyExtensions.WithSubscriptionKeys"/> made), and names the
    /// topology's first chat and embeddings deployments. The AppHost's other <c>Traffic:</c> settings (rate, mode, mix...)
    /// are passed on as they are.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddTrafficGenerator(this IDistributedApplicationBuilder builder, IResourceBuilder<ProjectResource> gateway, Topology topology, IReadOnlyList<SubscriptionDefinition> subscriptions)
    {
        var traffic = builder.AddProject<Projects.TrafficGenerator>("traffic")
            .WithEnvironment(ConfigurationNames.TrafficGatewayUrl, gateway.GetEndpoint("http"))
            .WaitFor(gateway);

        foreach (var subscription in subscriptions.Where(s => s.IsActive))
        {
            var key = builder.CreateResourceBuilder<ParameterResource>(TopologyExtensions.PrimaryKeyParameter(subscription.Name));
            traffic.WithEnvironment(ConfigurationNames.TrafficSubscriptionKey(subscription.Name), key);
        }

        var settings = builder.Configuration.GetSection(ConfigurationNames.Traffic);
        var deployments = topology.Accounts.SelectMany(a => a.Deployments).ToArray();
        if (settings["ChatDeployment"] is null && deployments.FirstOrDefault(d => d.Model.Kind == ModelKind.Chat) is { } chat)
        {
            traffic.WithEnvironment(ConfigurationNames.TrafficChatDeployment, chat.Name);
        }

        if (settings["EmbeddingsDeployment"] is null && deployments.FirstOrDefault(d => d.Model.Kind == ModelKind.Embeddings) is { } embeddings)
        {
            traffic.WithEnvironment(ConfigurationNames.TrafficEmbeddingsDeployment, embeddings.Name);
        }

        // Keys come only from the secret parameters above, never as plain settings.
        foreach (var (path, value) in settings.AsEnumerable(makePathsRelative: true))
        {
            if (value is not null && path != "AutoStart" && !path.StartsWith("Subscriptions", StringComparison.OrdinalIgnoreCase))
            {
                traffic.WithEnvironment(ConfigurationNames.TrafficSetting(path), value);
            }
        }

        return settings.GetValue<bool>("AutoStart") ? traffic : traffic.WithExplicitStart();
    }
}
