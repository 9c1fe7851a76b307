using System.Net;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Apim;

/// <summary>Products: their subscriptions, their policy scope between global and API, <c>context.Product</c> and <c>context.User</c>.</summary>
public sealed class ProductTests : IDisposable
{
    private const string ProductKey = "product-key-team-a";
    private readonly TestApim _apim = new();

    public ProductTests()
    {
        File.WriteAllText(Path.Combine(_apim.Path, SubscriptionDefinition.FileName), """
            {
              "subscriptions": [
                { "name": "chat-app", "scope": "/apis/azure-openai", "state": "active" },
                { "name": "team-a", "displayName": "Team A", "scope": "/products/ai-starter", "state": "active", "ownerId": "alice" }
              ],
              "users": [
                { "id": "alice", "email": "alice@contoso.com", "firstName": "Alice", "lastName": "Smith", "note": "on call", "registrationDate": "2024-05-01T00:00:00Z", "groups": [ "developers", "ai-team" ] }
              ]
            }
            """);
        var product = Path.Combine(_apim.Path, ProductDefinition.Folder, "ai-starter");
        Directory.CreateDirectory(product);
        File.WriteAllText(Path.Combine(product, ProductDefinition.FileName), """
            { "id": "ai-starter", "displayName": "AI Starter", "apis": [ "azure-openai" ], "subscriptionsLimit": 5, "groups": [ "developers" ], "policy": "policy.xml" }
            """);
        File.WriteAllText(Path.Combine(product, "policy.xml"), """
            <policies>
              <inbound>
                <base />
                <set-variable name="trail" value="@(context.Variables.GetValueOrDefault<string>("trail", "") + "product,")" />
              </inbound>
              <backend><base /></backend>
              <outbound><base /></outbound>
            </policies>
            """);
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <base />
                <set-variable name="trail" value="@(context.Variables.GetValueOrDefault<string>("trail", "") + "api")" />
                <return-response>
                  <set-header name="x-trail" exists-action="override"><value>@((string)context.Variables["trail"])</value></set-header>
                  <set-header name="x-product" exists-action="override">
                    <value>@(context.Product == null ? "none" : context.Product.Id + "|" + context.Product.Name + "|" + context.Product.State + "|" + context.Product.SubscriptionLimit + "|" + context.Product.SubscriptionRequired + "|" + string.Join(";", context.Product.Apis.Select(a => a.Id)) + "|" + string.Join(";", context.Product.Groups.Select(g => g.Name)))</value>
                  </set-header>
                  <set-header name="x-user" exists-action="override">
                    <value>@(context.User == null ? "none" : context.User.Id + "|" + context.User.Email + "|" + context.User.FirstName + " " + context.User.LastName + "|" + context.User.Note + "|" + context.User.RegistrationDate.ToString("yyyy-MM-dd") + "|" + string.Join(";", context.User.Groups.Select(g => g.Id + "=" + g.Name)) + "|" + string.Join(";", context.User.Identities.Select(i => i.Provider + ":" + i.Id)))</value>
                  </set-header>
                </return-response>
              </inbound>
            </policies>
            """);
    }

    [Fact]
    public async Task ProductSubscription_RunsTheProductScopeBetweenGlobalAndApi_AndSeesProductAndUser()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, ProductKey);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("product,api", Header(response, "x-trail"));
        Assert.Equal("ai-starter|AI Starter|Published|5|True|azure-openai|Developers", Header(response, "x-product"));
        Assert.Equal("alice|alice@contoso.com|Alice Smith|on call|2024-05-01|developers=Developers;ai-team=ai-team|Basic:alice@contoso.com", Header(response, "x-user"));
    }

    [Fact]
    [Covers("emit-metric", "name")]
    public async Task EmitMetric_ProductAndUserDefaultDimensions_AreTheSubscriptionsProductAndOwner()
    {
        File.WriteAllText(_apim.PolicyPath, """
            <policies>
              <inbound>
                <emit-metric name="calls-by-owner">
                  <dimension name="Product ID" />
                  <dimension name="User ID" />
                </emit-metric>
                <return-response />
              </inbound>
            </policies>
            """);
        using var factory = Factory();
        var withKey = factory.WithWebHostBuilder(b => b.UseSetting("Apim:Subscriptions:team-a:PrimaryKey", ProductKey));
        using var collector = new Microsoft.Extensions.Diagnostics.Metrics.Testing.MetricCollector<double>(
            Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(withKey.Services),
            Gateway.Telemetry.PolicyMetrics.MeterName,
            "calls-by-owner");

        using var product = await SendAsync(withKey, ProductKey);
        using var api = await SendAsync(withKey, GatewayFactory.PrimaryKey);

        var measurements = collector.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.Equal("ai-starter", measurements[0].Tags["Product ID"]);
        Assert.Equal("alice", measurements[0].Tags["User ID"]);
        Assert.Null(measurements[1].Tags["Product ID"]);
        Assert.Null(measurements[1].Tags["User ID"]);
    }

    [Fact]
    public async Task ApiSubscription_HasNoProductScopeNoProductAndNoUser()
    {
        using var factory = Factory();

        using var response = await SendAsync(factory, GatewayFactory.PrimaryKey);

        Assert.Equal("api", Header(response, "x-trail"));
        Assert.Equal("none", Header(response, "x-product"));
        Assert.Equal("none", Header(response, "x-user"));
    }

    [Fact]
    public async Task ProductSubscription_ForAnApiOutsideTheProduct_IsRefusedWithApimsInvalidKey401()
    {
        var product = Path.Combine(_apim.Path, ProductDefinition.Folder, "ai-starter", ProductDefinition.FileName);
        File.WriteAllText(product, """{ "id": "ai-starter", "apis": [ ] }""");
        using var factory = Factory();

        using var response = await SendAsync(factory, ProductKey);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid subscription key", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "id": "ai-starter", "apis": [ "no-such-api" ] }""", "product 'ai-starter' lists API 'no-such-api', which does not exist")]
    [InlineData("""{ "id": "ai-starter", "apis": [ "azure-openai" ], "subscriptionRequired": false }""", "open products")]
    [InlineData("""{ "id": "ai-starter", "apis": [ "azure-openai" ], "state": "draft" }""", "state must be published or notPublished")]
    public void BadProduct_FailsTheLoad(string json, string reason)
    {
        File.WriteAllText(Path.Combine(_apim.Path, ProductDefinition.Folder, "ai-starter", ProductDefinition.FileName), json);

        var ex = Assert.Throws<ApimArtifactException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ProductPolicyError_FailsTheLoadNamingTheProductsFile()
    {
        var policy = Path.Combine(_apim.Path, ProductDefinition.Folder, "ai-starter", "policy.xml");
        File.WriteAllText(policy, "<policies>\n  <inbound>\n    <planet />\n  </inbound>\n</policies>");

        var ex = Assert.Throws<PolicyLoadException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.StartsWith(policy + "(3,6): error APIM0003: unknown policy element <planet>", Assert.Single(ex.Problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "name": "team-b", "scope": "/products/nothing", "state": "active" }""", "subscription 'team-b' has scope /products/nothing, but there is no product 'nothing'")]
    [InlineData("""{ "name": "team-b", "scope": "/apis", "state": "active", "ownerId": "bob" }""", "subscription 'team-b' has ownerId 'bob', which is not among the users")]
    public void SubscriptionForAMissingProductOrUser_FailsTheLoad(string subscription, string reason)
    {
        File.WriteAllText(Path.Combine(_apim.Path, SubscriptionDefinition.FileName), $$"""
            { "subscriptions": [ { "name": "chat-app", "scope": "/apis", "state": "active" }, {{subscription}} ] }
            """);

        var ex = Assert.Throws<ApimArtifactException>(() => GatewayArtifacts.Load(_apim.Options()));

        Assert.Contains(reason, ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _apim.Dispose();

    private GatewayFactory Factory() => new(_apim, "http://127.0.0.1:9");

    private static Task<HttpResponseMessage> SendAsync(GatewayFactory factory, string key) =>
        SendAsync(factory.WithWebHostBuilder(b => b.UseSetting("Apim:Subscriptions:team-a:PrimaryKey", ProductKey)), key);

    private static Task<HttpResponseMessage> SendAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory, string key) =>
        factory.CreateClient().PostChatAsync(key: key);

    private static string Header(HttpResponseMessage response, string name) => string.Join(",", response.Headers.GetValues(name));
}
