using System.Text;
using Gateway.Pipeline;
using Gateway.Tokens;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Tokens;

public class ResponseUsageTapTests
{
    private const string Completion = """{"id":"chatcmpl-1","object":"chat.completion","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""";

    private static readonly ModelRequest Request = ModelRequest.Parse(Encoding.UTF8.GetBytes("""{"messages":[{"role":"user","content":"Hello world"}]}"""), "gpt-4o");

    [Fact]
    public async Task Result_BodyOfDeclaredLength_InPiecesAndEmptyWrites_ReadsItsUsage()
    {
        var bytes = Encoding.UTF8.GetBytes(Completion);
        var (tap, client) = Tap("application/json", bytes.Length);

        await tap.WriteAsync(bytes.AsMemory(0, 40));
        await tap.WriteAsync(ReadOnlyMemory<byte>.Empty);
        await tap.WriteAsync(bytes.AsMemory(40));
        await tap.WriteAsync(ReadOnlyMemory<byte>.Empty);

        Assert.Equal(new TokenUsage(9, 12, 21, Estimated: false), tap.Result(Request));
        Assert.Equal(bytes, client.ToArray());
    }

    [Fact]
    public async Task Result_BodyWithoutDeclaredLength_ReadsItsUsage()
    {
        var bytes = Encoding.UTF8.GetBytes(Completion);
        var (tap, client) = Tap("application/json", null);

        foreach (var chunk in bytes.Chunk(7))
        {
            await tap.WriteAsync(chunk);
        }

        Assert.Equal(21, tap.Result(Request)?.TotalTokens);
        Assert.Equal(bytes, client.ToArray());
    }

    [Fact]
    public async Task Result_BodyDeclaredLargerThanTheCopyLimit_IsNotCopiedAndReportsNothing()
    {
        var bytes = Encoding.UTF8.GetBytes(Completion);
        var (tap, client) = Tap("application/json", BodyCopy.MaxBytes + 1L);

        await tap.WriteAsync(bytes);

        Assert.Null(tap.Result(Request));
        Assert.Equal(bytes, client.ToArray());
    }

    private static (ResponseUsageTap Tap, MemoryStream Client) Tap(string contentType, long? contentLength)
    {
        var response = new DefaultHttpContext().Response;
        response.ContentType = contentType;
        response.ContentLength = contentLength;
        var client = new MemoryStream();
        return (new ResponseUsageTap(client, response, Request.Counter), client);
    }
}
