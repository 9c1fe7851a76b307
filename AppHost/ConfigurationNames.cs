namespace AppHost;

/// <summary>
/// Every configuration name the AppHost uses: the keys it reads itself, and the environment variables it sets on the
/// gateway and the mocks (a key's sections joined by <c>__</c>, as .NET configuration reads them). What each means is
/// the gateway's and the mocks' options classes' business.
/// </summary>
internal static class ConfigurationNames
{
    // Read by the AppHost (appsettings, user secrets, command line): the same keys the services read.
    public const string ApimPath = "Apim:Path";
    public const string ApimNamedValues = "Apim:NamedValues";
    public const string LocalIdentitySigningKey = "LocalIdentity:SigningKey";
    public const string MockOpenAILatency = "MockOpenAI:Latency";
    public const string Traffic = "Traffic";
    public const string TrafficAutoStart = "Traffic:AutoStart";

    // Set on the gateway.
    public const string GatewayApimPath = "Apim__Path";
    public const string GatewayIdentityProvider = "Identity__Provider";
    public const string GatewayEntraAuthority = "Identity__EntraAuthority";
    public const string GatewaySigningKey = "LocalIdentity__SigningKey";
    public const string GatewayAdminKey = "Gateway__AdminKey";

    public static string GatewayNamedValue(string name) => $"Apim__NamedValues__{name}";

    public static string GatewayBackendUrl(string backendId) => $"Apim__Backends__{backendId}__Url";

    public static string GatewayPrimaryKey(string subscription) => $"Apim__Subscriptions__{subscription}__PrimaryKey";

    public static string GatewaySecondaryKey(string subscription) => $"Apim__Subscriptions__{subscription}__SecondaryKey";

    // Set on each mock account (MockPublicKey on both kinds).
    public const string MockAccount = "MockOpenAI__Account";
    public const string MockRegion = "MockOpenAI__Region";
    public const string MockAdminPassword = "MockOpenAI__AdminPassword";
    public const string MockPublicKey = "LocalIdentity__PublicKey";
    public const string MockContentSafetyAccount = "MockContentSafety__Account";
    public const string MockContentSafetyAdminPassword = "MockContentSafety__AdminPassword";

    public static string MockLatency(string setting) => $"MockOpenAI__Latency__{setting}";

    public static string MockDeploymentModel(string deployment) => $"MockOpenAI__Deployments__{deployment}__Model";

    public static string MockDeploymentVersion(string deployment) => $"MockOpenAI__Deployments__{deployment}__Version";

    public static string MockDeploymentCapacity(string deployment) => $"MockOpenAI__Deployments__{deployment}__Capacity";

    // Set on the traffic generator.
    public const string TrafficGatewayUrl = "Traffic__GatewayUrl";
    public const string TrafficChatDeployment = "Traffic__ChatDeployment";
    public const string TrafficEmbeddingsDeployment = "Traffic__EmbeddingsDeployment";

    /// <summary>A <c>Traffic:</c> setting of the AppHost (<c>Burst:Length</c>) as the generator's environment variable.</summary>
    public static string TrafficSetting(string path) => $"Traffic__{path.Replace(":", "__", StringComparison.Ordinal)}";

    public static string TrafficSubscriptionKey(string subscription) => $"Traffic__Subscriptions__{subscription}";
}
