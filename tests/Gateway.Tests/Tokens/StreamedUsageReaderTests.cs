using System.Text;
using Gateway.Tokens;
using TokenCounting;

namespace Gateway.Tests.Tokens;

public class StreamedUsageReaderTests
{
    private const string WithoutUsage =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n" +
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"}}]}\r\n\r\n" +
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"}}]}\n\n" +
        "data: [DONE]\n\n";

    private const string UsageChunk = "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"total_tokens\":14}}\n\n";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public void Result_LinesSplitAcrossWrites_CountTheStreamedText(int writeSize)
    {
        var reader = new StreamedUsageReader(TokenCounter.ForModel("gpt-4o"));

        Write(reader, WithoutUsage, writeSize);

        Assert.Equal(TokenUsage.Estimate(9, 2), reader.Result(9));
    }

    [Fact]
    public void Result_UsageChunk_IsTheReportedUsage()
    {
        var reader = new StreamedUsageReader(TokenCounter.ForModel("gpt-4o"));

        Write(reader, UsageChunk + WithoutUsage, 3);

        Assert.Equal(new TokenUsage(9, 5, 14, Estimated: false), reader.Result(100));
    }

    [Fact]
    public void Result_ToolCallArgumentsAndCompletionsText_AreCounted_AndAnOverlongLineIsSkipped()
    {
        var reader = new StreamedUsageReader(TokenCounter.ForModel("gpt-4o"));
        var tooLong = "data: {\"choices\":[{\"index\":0,\"text\":\"" + new string('a', StreamedUsageReader.MaxLineBytes) + "\"}]}\n";

        Write(reader, "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"function\":{\"arguments\":\"Hello\"}}]}}]}\n" + tooLong + "data: {\"choices\":[{\"index\":1,\"text\":\"Hello world\"}]}", 1000);

        Assert.Equal(TokenUsage.Estimate(0, 3), reader.Result(0));
    }

    private static void Write(StreamedUsageReader reader, string text, int size)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        for (var i = 0; i < bytes.Length; i += size)
        {
            reader.Write(bytes.AsSpan(i, Math.Min(size, bytes.Length - i)));
        }
    }
}
