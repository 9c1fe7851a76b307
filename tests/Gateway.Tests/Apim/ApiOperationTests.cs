using Gateway.Apim;

namespace Gateway.Tests.Apim;

public sealed class ApiOperationTests
{
    private static readonly ApiOperation Chat = new("ChatCompletions_Create", "POST", "/deployments/{deployment-id}/chat/completions");

    [Theory]
    [InlineData("POST", "deployments/gpt-4o/chat/completions", true)]
    [InlineData("post", "Deployments/gpt-4o/CHAT/completions", true)]
    [InlineData("GET", "deployments/gpt-4o/chat/completions", false)]
    [InlineData("POST", "deployments//chat/completions", false)]
    [InlineData("POST", "deployments/gpt-4o/chat", false)]
    [InlineData("POST", "deployments/gpt-4o/chat/completions/more", false)]
    [InlineData("POST", "deployments/gpt-4o/chat/completion", false)]
    public void Matches_TheMethodAndEverySegment_LiteralsWithoutCase_ParametersNotEmpty(string method, string path, bool expected)
    {
        Assert.Equal(expected, Chat.Matches(method, path, Split(path)));
    }

    [Fact]
    public void CaptureParameters_AreTheMatchedSegments_AsSent_ByNameWithoutCase()
    {
        const string path = "deployments/My-GPT-4o/chat/completions";

        var parameters = Chat.CaptureParameters(path, Split(path));

        Assert.Equal("My-GPT-4o", Assert.Single(parameters).Value);
        Assert.Equal("My-GPT-4o", parameters["DEPLOYMENT-ID"]);
    }

    [Fact]
    public void AnOperationWithoutParameters_HasNone_AndTheRootTemplateMatchesTheEmptyPath()
    {
        var root = new ApiOperation("Root", "GET", "/");

        Assert.True(root.Matches("GET", string.Empty, Split(string.Empty)));
        Assert.Empty(root.CaptureParameters(string.Empty, Split(string.Empty)));
        Assert.False(root.Matches("GET", "models", Split("models")));
    }

    /// <summary>The path's segments as ApiRouter splits them.</summary>
    private static Range[] Split(string path)
    {
        var segments = new Range[path.AsSpan().Count('/') + 1];
        path.AsSpan().Split(segments, '/');
        return segments;
    }
}
