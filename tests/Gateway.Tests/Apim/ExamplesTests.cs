using System.Net;
using Gateway.Tests.Support;

namespace Gateway.Tests.Apim;

/// <summary>The overlays in examples/ load over apim/ and serve requests, as the README runs them.</summary>
public sealed class ExamplesTests : IAsyncLifetime
{
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Theory]
    [InlineData("article-random")]
    [InlineData("cached-priority")]
    public async Task Example_OverApim_ForwardsAChatWithTheGatewaysTokenOnly(string example)
    {
        using var apim = new TestApim();
        var folder = Path.Combine(TestApim.RepoRoot, "examples", example);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(apim.Path, Path.GetRelativePath(folder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        using var factory = new GatewayFactory(apim, _backend.Url);
        using var response = await factory.CreateClient().PostChatAsync(body: ChatCalls.OneUserMessage);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var received = Assert.Single(_backend.Requests);
        Assert.StartsWith("Bearer ", received.Headers["Authorization"], StringComparison.Ordinal);
        Assert.False(received.Headers.ContainsKey("api-key"));
    }
}
