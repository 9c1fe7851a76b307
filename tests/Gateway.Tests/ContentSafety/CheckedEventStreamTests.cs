using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Gateway.ContentSafety;
using Gateway.Tests.Support;

namespace Gateway.Tests.ContentSafety;

/// <summary>
/// The streamed-answer check on its own: a backend stream fed chunk by chunk, a check that records each window and blocks
/// the windows holding "BAD".
/// </summary>
public sealed class CheckedEventStreamTests
{
    private const string Done = "data: [DONE]\n\n";

    private readonly List<string> _windows = [];
    private readonly List<string> _stops = [];

    [Fact]
    public async Task ReadAsync_EveryWindowPasses_ForwardsTheStreamAsItCame_AndChecksTheWindowsOfItsText()
    {
        var events = Chunks("The quick ", "brown fox ", "jumps over ", "the lazy dog.") + Done;
        // Split across reads at awkward places, inside events and inside "\n\n".
        var source = Source(events[..7], events[7..40], events[40..41], events[41..]);

        var forwarded = await ReadAllAsync(new CheckedEventStream(source, 12, 4, CheckAsync, _stops.Add));

        Assert.Equal(events, forwarded);
        var text = "The quick brown fox jumps over the lazy dog.";
        Assert.Equal(TextWindows.Of(text, 12, 4).Select(w => text[w.Start..w.End]), _windows);
        Assert.Empty(_stops);
    }

    [Fact]
    public async Task ReadAsync_AViolationInALaterWindow_StopsAfterTheEventsWhoseTextPassed_WithNothingOfTheFailedWindow()
    {
        var events = new[] { Chunk("aaaa "), Chunk("bbbb "), Chunk("cccc "), Chunk("BAD "), Chunk("dddd "), Chunk("eeee "), Done };
        var checkedStream = new CheckedEventStream(Source(events), 10, 0, CheckAsync, _stops.Add);

        var forwarded = await ReadAllAsync(checkedStream);

        Assert.Equal(events[0] + events[1], forwarded);
        Assert.Equal(["aaaa bbbb ", "cccc BAD d"], _windows);
        Assert.Equal("BAD found", Assert.Single(_stops));
        Assert.Equal("BAD found", checkedStream.StopReason);
    }

    [Fact]
    public async Task ReadAsync_WithAnOverlap_HoldsTheOverlapUntilTheNextWindowPasses()
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        var checkedStream = new CheckedEventStream(new ChannelStream(channel.Reader), 10, 4, CheckAsync, _stops.Add);
        var buffer = new byte[64 * 1024];

        // "aaaa " ends at 5 and "bbbb " at 10: the first window [0, 10) passes, the next starts at 6, so only the first
        // event's text has passed every window it lies in.
        await channel.Writer.WriteAsync(Encoding.UTF8.GetBytes(Chunk("aaaa ") + Chunk("bbbb ")));
        var first = await checkedStream.ReadAsync(buffer).AsTask().WaitAsync(TestTimeouts.Request);
        Assert.Equal(Chunk("aaaa "), Encoding.UTF8.GetString(buffer, 0, first));

        // The window [6, 16) takes the overlap and "BAD": the second event is never forwarded.
        await channel.Writer.WriteAsync(Encoding.UTF8.GetBytes(Chunk("BAD ") + Chunk("cccc ")));
        channel.Writer.Complete();
        Assert.Equal(0, await checkedStream.ReadAsync(buffer).AsTask().WaitAsync(TestTimeouts.Request));
        Assert.Equal(["aaaa bbbb ", "bbb BAD cc"], _windows);
    }

    [Fact]
    public async Task ReadAsync_EventsWithoutText_PassAtOnceUntilTextComes()
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        var checkedStream = new CheckedEventStream(new ChannelStream(channel.Reader), null, 0, CheckAsync, _stops.Add);
        var role = """data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}""" + "\n\n";
        var buffer = new byte[64 * 1024];

        await channel.Writer.WriteAsync(Encoding.UTF8.GetBytes(role + Chunk("Hello") + Chunk(" there.")));
        var first = await checkedStream.ReadAsync(buffer).AsTask().WaitAsync(TestTimeouts.Request);

        Assert.Equal(role, Encoding.UTF8.GetString(buffer, 0, first));
        Assert.Empty(_windows);
    }

    [Fact]
    public async Task ReadAsync_WithoutAWindowSize_ChecksTheWholeAnswerOnceAtItsEnd()
    {
        var events = Chunks("one ", "two ", "three") + Done;

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), null, 0, CheckAsync, _stops.Add));

        Assert.Equal(events, forwarded);
        Assert.Equal(["one two three"], _windows);
    }

    [Fact]
    public async Task ReadAsync_WithoutAWindowSize_AViolationForwardsNoTextAtAll()
    {
        var events = Chunks("one ", "BAD ", "three") + Done;

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), null, 0, CheckAsync, _stops.Add));

        Assert.Equal(string.Empty, forwarded);
        Assert.Single(_stops);
    }

    [Fact]
    public async Task ReadAsync_WithoutAWindowSize_AnAnswerOverTenThousandCharacters_StopsWithoutACheck()
    {
        var events = string.Concat(Enumerable.Repeat(Chunk(new string('a', 1_000)), 11)) + Done;

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), null, 0, CheckAsync, _stops.Add));

        Assert.Equal(string.Empty, forwarded);
        Assert.Empty(_windows);
        Assert.Contains("10000 characters", Assert.Single(_stops), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_ACheckThatFails_StopsTheStream()
    {
        var events = Chunks("aaaa ", "bbbb ", "cccc ") + Done;
        Func<string, CancellationToken, Task<string?>> failing = (_, _) => throw new HttpRequestException("unreachable");

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), 5, 0, failing, _stops.Add));

        Assert.Equal(string.Empty, forwarded);
        Assert.Equal("The window could not be checked (HttpRequestException).", Assert.Single(_stops));
    }

    [Fact]
    public async Task ReadAsync_AnEventLargerThanTheLimit_StopsTheStream()
    {
        var events = Chunk("fine ") + "data: " + new string('x', CheckedEventStream.MaxEventBytes + 1);

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), 5, 0, CheckAsync, _stops.Add));

        Assert.Equal(Chunk("fine "), forwarded);
        Assert.Contains("larger than", Assert.Single(_stops), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_EventsWithoutTextPilingUpBehindSome_GetTheWindowSoFarCheckedEarly()
    {
        // A tool call's argument chunks carry no text to check: behind "some text" they would be held for the window,
        // which never fills; past the limit the window so far is checked and everything held goes.
        var tool = """data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"PADDING"}}]}}]}""".Replace("PADDING", new string('x', 64 * 1024), StringComparison.Ordinal) + "\n\n";
        var events = Chunk("some text") + string.Concat(Enumerable.Repeat(tool, 20)) + Done;

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), 1_000, 0, CheckAsync, _stops.Add));

        Assert.Equal(events, forwarded);
        Assert.Equal(["some text"], _windows);
    }

    [Fact]
    public async Task ReadAsync_ResponsesEvents_AreCheckedByTheirOutputTextDeltas()
    {
        var events =
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n" +
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"Fine \"}\n\n" +
            "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"delta\":\"BAD\"}\n\n" +
            "event: response.completed\ndata: {\"type\":\"response.completed\",\"sequence_number\":3}\n\n";

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), 5, 0, CheckAsync, _stops.Add));

        Assert.StartsWith("event: response.created", forwarded, StringComparison.Ordinal);
        Assert.Contains("Fine ", forwarded, StringComparison.Ordinal);
        Assert.DoesNotContain("BAD", forwarded, StringComparison.Ordinal);
        Assert.Equal(["Fine ", "BAD"], _windows);
    }

    [Fact]
    public async Task ReadAsync_ALastEventWithoutItsBlankLine_IsCheckedAndForwarded()
    {
        var events = Chunk("one ") + """data: {"choices":[{"index":0,"delta":{"content":"two"}}]}""";

        var forwarded = await ReadAllAsync(new CheckedEventStream(Source(events), 100, 0, CheckAsync, _stops.Add));

        Assert.Equal(events, forwarded);
        Assert.Equal(["one two"], _windows);
    }

    private Task<string?> CheckAsync(string window, CancellationToken cancellationToken)
    {
        _windows.Add(window);
        return Task.FromResult(window.Contains("BAD", StringComparison.Ordinal) ? "BAD found" : null);
    }

    private static string Chunk(string content) =>
        $$"""data: {"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":{{JsonSerializer.Serialize(content)}}},"finish_reason":null}]}""" + "\n\n";

    private static string Chunks(params string[] contents) => string.Concat(contents.Select(Chunk));

    private static ChannelStream Source(params string[] chunks)
    {
        var channel = Channel.CreateUnbounded<byte[]>();
        foreach (var chunk in chunks)
        {
            channel.Writer.TryWrite(Encoding.UTF8.GetBytes(chunk));
        }

        channel.Writer.Complete();
        return new ChannelStream(channel.Reader);
    }

    private static async Task<string> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy).WaitAsync(TestTimeouts.Request);
        return Encoding.UTF8.GetString(copy.ToArray());
    }

    /// <summary>A backend body that arrives in the chunks written to a channel, each read as it came.</summary>
    private sealed class ChannelStream(ChannelReader<byte[]> chunks) : Gateway.Pipeline.ReadOnlyStream
    {
        private byte[] _current = [];
        private int _offset;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset == _current.Length)
            {
                if (!await chunks.WaitToReadAsync(cancellationToken) || !chunks.TryRead(out var next))
                {
                    return 0;
                }

                _current = next;
                _offset = 0;
            }

            var count = Math.Min(buffer.Length, _current.Length - _offset);
            _current.AsMemory(_offset, count).CopyTo(buffer);
            _offset += count;
            return count;
        }
    }
}
