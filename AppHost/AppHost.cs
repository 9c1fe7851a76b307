using AppHost;
using Gateway.Apim.Model;

var builder = DistributedApplication.CreateBuilder(args);

// The apim/ folder is the single source of truth: the topology decides which mock accounts exist.
var apimPath = Path.GetFullPath(builder.Configuration[ConfigurationNames.ApimPath] ?? Path.Combine(builder.AppHostDirectory, "..", "apim"));
var topology = Topology.Load(apimPath);
var subscriptions = SubscriptionDefinition.Load(apimPath);
var identity = LocalIdentityKeys.Create(builder.Configuration[ConfigurationNames.LocalIdentitySigningKey]);
var signingKey = builder.AddParameter("local-identity-signing-key", identity.PrivateKeyPem, secret: true);

// The key of the gateway's admin endpoints (POST /_gateway/admin/reset) and of its page (/_gateway/ui/, linked from the
// gateway's resource in the dashboard), generated once and kept in user secrets.
var adminKey = builder.AddParameter("gateway-admin-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// The password of the mocks' WireMock admin API (user "admin"): mappings and journals, generated once and kept in user secrets.
var mockAdminPassword = builder.AddParameter("mock-admin-password", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

var gateway = builder.AddProject<Projects.Gateway>("gateway")
    .WithEnvironment(ConfigurationNames.GatewayApimPath, apimPath)
    .WithEnvironment(ConfigurationNames.GatewayIdentityProvider, "local")
    .WithEnvironment(ConfigurationNames.GatewaySigningKey, signingKey)
    .WithEnvironment(ConfigurationNames.GatewayAdminKey, adminKey)
    .WithSubscriptionKeys(subscriptions)
    .WithHttpHealthCheck("/health")
    .WithExternalHttpEndpoints()
    .WithAdminCommands(adminKey)
    .WithUrlForEndpoint("http", GatewayPageUrl);

// validate-azure-ad-token reads tenants' OpenID documents from the gateway's own local Entra tenant, never the internet.
gateway.WithEnvironment(ConfigurationNames.GatewayEntraAuthority, ReferenceExpression.Create($"{gateway.GetEndpoint("http")}/_gateway/entra"));

// Named values set on the AppHost (command line, user secrets: Apim:NamedValues:<name>) reach the gateway as secret
// parameters, since some are secrets: the dashboard masks them.
foreach (var namedValue in builder.Configuration.GetSection(ConfigurationNames.ApimNamedValues).GetChildren())
{
    var parameterName = "named-value-" + new string([.. namedValue.Key.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-')]);
    var parameter = builder.AddParameter(parameterName, namedValue.Value ?? string.Empty, secret: true);
    gateway.WithEnvironment(ConfigurationNames.GatewayNamedValue(namedValue.Key), parameter);
}

foreach (var account in topology.Accounts)
{
    var mock = builder.AddMockAccount(account, identity.PublicKeyPem, mockAdminPassword)
        .WithFaultCommands(account, mockAdminPassword);
    gateway.WithBackendsOf(topology, account.Name, mock);
}

// The Content Safety accounts llm-content-safety calls through their backends (content-safety-backend).
foreach (var account in topology.ContentSafetyAccounts)
{
    var mock = builder.AddMockContentSafetyAccount(account, identity.PublicKeyPem, mockAdminPassword);
    gateway.WithBackendsOf(topology, account.Name, mock);
}

// A mix of SDK calls from every subscription, to watch failover and throttling live: stopped until started from the
// dashboard (or --Traffic:AutoStart true).
builder.AddTrafficGenerator(gateway, topology, subscriptions);

builder.Build().Run();

// Listed before the endpoint's own URL (a higher DisplayOrder sorts first): the dashboard shows a resource's first URL
// and folds the others under "+1", where a newcomer would not find the page. Aspire 13.6 marks the field obsolete only
// because it will become a property of the same name.
static ResourceUrlAnnotation GatewayPageUrl(EndpointReference endpoint)
{
#pragma warning disable CS0618
    return new() { Url = "/_gateway/ui/", DisplayText = "Gateway page (sign in with gateway-admin-key)", DisplayOrder = 1 };
#pragma warning restore CS0618
}
