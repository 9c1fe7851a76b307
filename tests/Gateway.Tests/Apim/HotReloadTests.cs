using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Apim;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Apim;

public class HotReloadTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task EditedPolicy_IsPickedUp_ABrokenEditKeepsThePreviousVersionAndDegradesHealth()
    {
        using var apim = new TestApim(Policy("1"));
        using var factory = new GatewayFactory(apim, "http://127.0.0.1:9", watchForChanges: true);
        var client = factory.CreateClient();
        Assert.Equal("1", await VersionAsync(client));

        await File.WriteAllTextAsync(apim.PolicyPath, Policy("2"));
        Assert.True(await EventuallyAsync(async () => await VersionAsync(client) == "2"), "the edit was not picked up");

        await File.WriteAllTextAsync(apim.PolicyPath, "<policies><inbound><no-such-element /></inbound></policies>");
        Assert.True(await EventuallyAsync(async () => (await client.GetStringAsync(new Uri("/health", UriKind.Relative))) == "Degraded"), "health did not report the broken edit");
        Assert.Equal("2", await VersionAsync(client));

        await File.WriteAllTextAsync(apim.PolicyPath, Policy("3"));
        Assert.True(await EventuallyAsync(async () => await VersionAsync(client) == "3"), "the fixed edit was not picked up");
        Assert.Equal("Healthy", await client.GetStringAsync(new Uri("/health", UriKind.Relative)));
    }

    /// <summary>
    /// 48 clients send 2,000 requests back to back through a policy with expressions before and after its backend call;
    /// the 300th request edits the policy on disk. Requests 200 to 215 are held at the backend until the new version is
    /// in force (they are in flight across the swap, and their outbound runs on a version whose expression assembly is
    /// unloading); the last 200 wait for it, so both versions answer. Every request must get a 200 from one of them.
    /// </summary>
    [Fact]
    public async Task EditDuring2000ConcurrentRequests_EveryRequestIsAnsweredByTheOldOrTheNewPolicy()
    {
        const int Requests = 2000;
        const int Workers = 48;
        const int EditAt = 300;
        const int HeldFrom = 200;
        const int Held = 16;
        const int Tail = 200;
        using var apim = new TestApim(ForwardingPolicy("old"));
        await using var backend = await RecordingBackend.StartAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        backend.Answer = async context =>
        {
            // Held requests are in flight (their inbound ran on the old policy) until the new policy is in force.
            if (context.Request.Headers.ContainsKey("x-hold"))
            {
                await release.Task.WaitAsync(Patience);
            }

            await context.Response.WriteAsJsonAsync(new { ok = true });
        };
        using var factory = new GatewayFactory(apim, backend.Url, watchForChanges: true);
        var client = factory.CreateClient();
        var provider = factory.Services.GetRequiredService<ArtifactsProvider>();
        var original = provider.Current;
        var swapped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watch = Task.Run(async () =>
        {
            var clock = Stopwatch.StartNew();
            while (ReferenceEquals(provider.Current, original) && clock.Elapsed < Patience)
            {
                await Task.Delay(5);
            }

            swapped.TrySetResult();
            release.TrySetResult();
        });

        var answers = new Answer[Requests];
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            for (var i = Interlocked.Increment(ref next); i < Requests; i = Interlocked.Increment(ref next))
            {
                if (i == EditAt)
                {
                    await File.WriteAllTextAsync(apim.PolicyPath, ForwardingPolicy("new"));
                }

                if (i >= Requests - Tail)
                {
                    // The last requests come after the new policy is in force, so both versions answer.
                    await swapped.Task.WaitAsync(Patience);
                }

                answers[i] = await SendAsync(client, hold: i is >= HeldFrom and < HeldFrom + Held);
            }
        }))).WaitAsync(Patience * 2);
        await watch.WaitAsync(Patience);

        var failed = answers.Select((answer, i) => (answer, i)).Where(a => a.answer.Status != HttpStatusCode.OK || a.answer.Version is not ("old" or "new")).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} of {Requests} requests were not answered by either policy, e.g. " + string.Join("; ", failed.Take(5).Select(f => $"#{f.i}: {f.answer}")));
        Assert.Contains(answers, a => a.Version == "old");
        Assert.Contains(answers, a => a.Version == "new");

        // In flight across the swap, the held requests finished on the version they started with (its expression
        // assembly already unloading); the tail was served by the new one.
        Assert.All(answers[HeldFrom..(HeldFrom + Held)], a => Assert.Equal("old", a.Version));
        Assert.All(answers[^Tail..], a => Assert.Equal("new", a.Version));
        Assert.Null(provider.ReloadError);
    }

    private readonly record struct Answer(HttpStatusCode Status, string? Version, string? Error);

    private static async Task<Answer> SendAsync(HttpClient client, bool hold)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        if (hold)
        {
            request.Headers.Add("x-hold", "1");
        }

        try
        {
            using var response = await client.SendAsync(request).WaitAsync(Patience);
            var body = response.StatusCode == HttpStatusCode.OK ? null : await response.Content.ReadAsStringAsync().WaitAsync(Patience);
            return new Answer(response.StatusCode, response.Headers.TryGetValues("x-policy-version", out var values) ? values.Single() : null, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or IOException)
        {
            return new Answer(0, null, ex.GetType().Name + ": " + ex.Message);
        }
    }

    /// <summary>A policy whose expressions run before and after the backend call, and whose answer says which version ran.</summary>
    private static string ForwardingPolicy(string version) => $$"""
        <policies>
          <inbound>
            <base />
            <set-variable name="policy-version" value="@("{{version}}")" />
            <set-backend-service backend-id="aoai-eastus2-gpt-4o" />
          </inbound>
          <backend>
            <forward-request timeout="30" />
          </backend>
          <outbound>
            <base />
            <set-header name="x-policy-version" exists-action="override">
              <value>@((string)context.Variables["policy-version"])</value>
            </set-header>
          </outbound>
          <on-error>
            <base />
          </on-error>
        </policies>
        """;

    private static string Policy(string version) => $$"""
        <policies>
          <inbound>
            <return-response>
              <set-header name="x-version" exists-action="override"><value>{{version}}</value></set-header>
            </return-response>
          </inbound>
        </policies>
        """;

    private static async Task<string> VersionAsync(HttpClient client)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        using var response = await client.SendAsync(request).WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.GetValues("x-version").Single();
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < Patience)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return false;
    }
}
