using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Subscriptions;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Subscriptions;

public class SubscriptionKeyStoreTests
{
    private static readonly ApiEntity Api = new("azure-openai", null, "openai", true, new SubscriptionKeyParameterNames("api-key", "api-key"), "openapi.json", "policy.xml");

    private static readonly SubscriptionKeyStore Store = SubscriptionKeyStore.Create(
        [
            new SubscriptionDefinition("chat-app", null, "/apis/azure-openai", "active"),
            new SubscriptionDefinition("suspended", null, "/apis/azure-openai", "suspended"),
            new SubscriptionDefinition("other-api", null, "/apis/another-api", "active"),
            new SubscriptionDefinition("all-apis", null, "/apis", "active"),
        ],
        new Dictionary<string, SubscriptionKeyOptions>(StringComparer.OrdinalIgnoreCase)
        {
            ["chat-app"] = new() { PrimaryKey = "primary-1", SecondaryKey = "secondary-1" },
            ["suspended"] = new() { PrimaryKey = "suspended-key" },
            ["other-api"] = new() { PrimaryKey = "other-key" },
            ["all-apis"] = new() { SecondaryKey = "all-key" },
        });

    [Fact]
    public void Check_NoKey_IsMissing()
    {
        Assert.Equal(SubscriptionCheckStatus.Missing, Store.Check(Api, Request()).Status);
    }

    [Fact]
    public void Check_EmptyHeader_IsMissing()
    {
        Assert.Equal(SubscriptionCheckStatus.Missing, Store.Check(Api, Request(header: string.Empty)).Status);
    }

    [Theory]
    [InlineData("primary-1", "chat-app")]
    [InlineData("secondary-1", "chat-app")]
    [InlineData("all-key", "all-apis")]
    public void Check_KnownKeyInHeader_IsValidForItsSubscription(string key, string subscription)
    {
        var check = Store.Check(Api, Request(header: key));

        Assert.Equal(SubscriptionCheckStatus.Valid, check.Status);
        Assert.Equal(subscription, check.Subscription!.Name);
        Assert.Equal(key, check.Subscription.Key);
    }

    [Fact]
    public void Check_KeyInQueryOnly_IsValid()
    {
        Assert.Equal(SubscriptionCheckStatus.Valid, Store.Check(Api, Request(query: "primary-1")).Status);
    }

    [Fact]
    public void Check_HeaderPresent_WinsOverQuery()
    {
        Assert.Equal(SubscriptionCheckStatus.Invalid, Store.Check(Api, Request(header: "wrong", query: "primary-1")).Status);
    }

    [Theory]
    [InlineData("wrong")]
    [InlineData("primary-")]
    [InlineData("primary-12")]
    [InlineData("PRIMARY-1")]
    [InlineData("suspended-key")]
    [InlineData("other-key")]
    public void Check_UnknownSuspendedOrOutOfScopeKey_IsInvalid(string key)
    {
        Assert.Equal(SubscriptionCheckStatus.Invalid, Store.Check(Api, Request(header: key)).Status);
    }

    [Fact]
    public void Create_KeysForUnknownSubscription_Throws()
    {
        var keys = new Dictionary<string, SubscriptionKeyOptions> { ["nobody"] = new() { PrimaryKey = "x" } };

        var error = Assert.Throws<ApimArtifactException>(() => SubscriptionKeyStore.Create([], keys));

        Assert.Contains("nobody", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("primary")]
    [InlineData("primary-10")]
    [InlineData("PRIMARY-1")]
    public void Check_KeyThatOnlyResemblesAKey_IsInvalid(string key)
    {
        Assert.Equal(SubscriptionCheckStatus.Invalid, Store.Check(Api, Request(header: key)).Status);
    }

    [Fact]
    public void Check_LongAndNonAsciiKeys_AreFound()
    {
        var longKey = new string('k', 500);
        var store = SubscriptionKeyStore.Create(
            [new SubscriptionDefinition("long", null, "/apis", "active"), new SubscriptionDefinition("accents", null, "/apis", "active")],
            new Dictionary<string, SubscriptionKeyOptions> { ["long"] = new() { PrimaryKey = longKey }, ["accents"] = new() { SecondaryKey = "clé-ünïcödé-鍵" } });

        Assert.Equal("long", store.Check(Api, Request(header: longKey)).Subscription?.Name);
        Assert.Equal("accents", store.Check(Api, Request(header: "clé-ünïcödé-鍵")).Subscription?.Name);
        Assert.Equal(SubscriptionCheckStatus.Invalid, store.Check(Api, Request(header: longKey[1..])).Status);
    }

    [Fact]
    public void Check_KeyOfTwoSubscriptions_IsTheLaterOnes()
    {
        var store = SubscriptionKeyStore.Create(
            [new SubscriptionDefinition("first", null, "/apis", "active"), new SubscriptionDefinition("second", null, "/apis", "active")],
            new Dictionary<string, SubscriptionKeyOptions> { ["first"] = new() { PrimaryKey = "shared" }, ["second"] = new() { SecondaryKey = "shared" } });

        Assert.Equal("second", store.Check(Api, Request(header: "shared")).Subscription?.Name);
    }

    [Fact]
    public void Check_AmongTenThousandSubscriptions_FindsEach()
    {
        var names = Enumerable.Range(0, 10_000).Select(i => "s" + i).ToList();
        var store = SubscriptionKeyStore.Create(
            [.. names.Select(name => new SubscriptionDefinition(name, null, "/apis", "active"))],
            names.ToDictionary(name => name, name => new SubscriptionKeyOptions { PrimaryKey = "key-" + name, SecondaryKey = "other-" + name }));

        Assert.Equal("s0", store.Check(Api, Request(header: "key-s0")).Subscription?.Name);
        Assert.Equal("s9999", store.Check(Api, Request(header: "other-s9999")).Subscription?.Name);
        Assert.Equal(SubscriptionCheckStatus.Invalid, store.Check(Api, Request(header: "key-s10000")).Status);
    }

    private static HttpRequest Request(string? header = null, string? query = null)
    {
        var context = new DefaultHttpContext();
        if (header is not null)
        {
            context.Request.Headers["api-key"] = header;
        }

        if (query is not null)
        {
            context.Request.QueryString = QueryString.Create("api-key", query);
        }

        return context.Request;
    }
}
