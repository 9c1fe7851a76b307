using BenchmarkDotNet.Attributes;
using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Subscriptions;
using Microsoft.AspNetCore.Http;

namespace Gateway.Bench;

/// <summary>
/// The subscription key check alone: one call is one request's check of a valid key, among <see cref="Subscriptions"/>
/// subscriptions with two keys each, the key presented cycling over all of them.
/// </summary>
[MemoryDiagnoser]
public class SubscriptionBenchmarks
{
    private static readonly ApiEntity Api = new("azure-openai", null, "openai", true, new SubscriptionKeyParameterNames("api-key", "api-key"), "openapi.json", "policy.xml");
    private SubscriptionKeyStore _store = null!;
    private HttpRequest[] _requests = [];
    private int _next;

    [Params(1, 100, 10_000)]
    public int Subscriptions { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var names = Enumerable.Range(0, Subscriptions).Select(i => "subscription-" + i).ToList();
        _store = SubscriptionKeyStore.Create(
            [.. names.Select(name => new SubscriptionDefinition(name, null, "/apis/azure-openai", "active"))],
            names.ToDictionary(name => name, name => new SubscriptionKeyOptions { PrimaryKey = Key(name, 1), SecondaryKey = Key(name, 2) }));
        _requests = [.. names.Select(name =>
        {
            var context = new DefaultHttpContext();
            context.Request.Headers["api-key"] = Key(name, 1);
            return context.Request;
        })];
    }

    [Benchmark]
    public bool CheckValidKey()
    {
        var request = _requests[_next];
        _next = _next + 1 == _requests.Length ? 0 : _next + 1;
        return _store.Check(Api, request).Status == SubscriptionCheckStatus.Valid;
    }

    // 32 hexadecimal characters, as the AppHost's generated keys are.
    private static string Key(string name, int which) => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name + which)))[..32];
}
