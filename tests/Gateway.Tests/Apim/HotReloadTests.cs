using System.Diagnostics;
using System.Net;
using System.Text;
using Gateway.Tests.Support;

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
