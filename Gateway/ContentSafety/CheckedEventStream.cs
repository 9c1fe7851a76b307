using System.Text;

namespace Gateway.ContentSafety;

/// <summary>
/// A model's streamed answer (server-sent events) as <c>llm-content-safety</c> lets it through: read from the backend,
/// each event is held until the text it carries has passed Content Safety, then forwarded as it came. The text (the
/// events' deltas, in arrival order) is checked window by window as it accumulates (<see cref="TextWindows"/>); an
/// event is forwarded once every window its text lies in has passed, so the client never gets text of a window that
/// failed. Without a window size the whole answer is one window, checked at its end. When a window fails (or its check
/// cannot be made), no further event is forwarded and the stream ends there: API Management "stops forwarding further
/// events to the client", with no 403 (docs/fidelity.md, "llm-content-safety").
/// </summary>
/// <remarks>
/// Memory stays bounded: a window's text, the events held for it, and one event being received. A single event larger
/// than <see cref="MaxEventBytes"/> cannot be read and stops the stream. With windows, events held past
/// <see cref="MaxWindowedHeldBytes"/> (events without text piling up after some) get the window so far checked early;
/// without, an answer held past <see cref="MaxWholeHeldBytes"/> cannot be checked as one and stops the stream.
/// </remarks>
internal sealed class CheckedEventStream : Pipeline.ReadOnlyStream
{
    /// <summary>The largest single event read.</summary>
    public const int MaxEventBytes = 1024 * 1024;

    /// <summary>With windows: how much the held events may weigh before the window so far is checked.</summary>
    public const int MaxWindowedHeldBytes = 1024 * 1024;

    /// <summary>Without windows: how much of the answer may be held for its one check (the gateway's response buffer).</summary>
    public const long MaxWholeHeldBytes = Forwarding.PolicyTransformer.MaxBufferedResponseBytes;

    private const int ReadSize = 16 * 1024;

    private readonly Stream _inner;
    private readonly int? _size;
    private readonly int _overlap;
    private readonly Func<string, CancellationToken, Task<string?>> _check;
    private readonly Action<string> _stopped;
    private readonly byte[] _read = new byte[ReadSize];
    private readonly Queue<(byte[] Bytes, long TextEnd)> _held = new();
    private readonly Queue<byte[]> _out = new();
    private readonly StringBuilder _window = new();

    // The event being received, and how far it was searched for its end.
    private byte[] _event = new byte[ReadSize];
    private int _eventLength;
    private int _searched;
    private int _lineStart;

    private int _outOffset;
    private long _heldBytes;
    private long _windowStart;
    private long _received;
    private long _checkedTo;
    private long _cleared;
    private bool _ended;

    /// <param name="inner">The backend's event stream.</param>
    /// <param name="size"><c>window-size</c>; null: the whole answer is one window.</param>
    /// <param name="overlap"><c>window-overlap-size</c> (less than <paramref name="size"/>).</param>
    /// <param name="check">The reason a window's text is blocked, or null when it passes.</param>
    /// <param name="stopped">Told why the stream stopped, once.</param>
    public CheckedEventStream(Stream inner, int? size, int overlap, Func<string, CancellationToken, Task<string?>> check, Action<string> stopped)
    {
        if (size is { } s)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(s, 1, nameof(size));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(overlap, s, nameof(overlap));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(overlap);
        _inner = inner;
        _size = size;
        _overlap = size is null ? 0 : overlap;
        _check = check;
        _stopped = stopped;
    }

    /// <summary>Why the stream stopped early; null while it forwards (or when it ended whole).</summary>
    public string? StopReason { get; private set; }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_out.Count > 0 && buffer.Length > 0)
            {
                return CopyOut(buffer.Span);
            }

            if (_ended || buffer.Length == 0)
            {
                return 0;
            }

            var read = await _inner.ReadAsync(_read, cancellationToken);
            if (read == 0)
            {
                await EndAsync(cancellationToken);
            }
            else
            {
                await ReceiveAsync(read, cancellationToken);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private int CopyOut(Span<byte> buffer)
    {
        var first = _out.Peek();
        var count = Math.Min(buffer.Length, first.Length - _outOffset);
        first.AsSpan(_outOffset, count).CopyTo(buffer);
        _outOffset += count;
        if (_outOffset == first.Length)
        {
            _out.Dequeue();
            _outOffset = 0;
        }

        return count;
    }

    /// <summary>Takes <paramref name="count"/> bytes just read: splits them into events, holds and checks them.</summary>
    private async Task ReceiveAsync(int count, CancellationToken cancellationToken)
    {
        if (_eventLength + count > _event.Length)
        {
            Array.Resize(ref _event, Math.Max(_event.Length * 2, _eventLength + count));
        }

        _read.AsSpan(0, count).CopyTo(_event.AsSpan(_eventLength));
        _eventLength += count;
        while (!_ended && NextEventEnd() is { } end)
        {
            Hold(_event.AsSpan(0, end).ToArray());
            _event.AsSpan(end, _eventLength - end).CopyTo(_event);
            _eventLength -= end;
            _searched = 0;
            _lineStart = 0;
            await CheckFullWindowsAsync(cancellationToken);
        }

        if (!_ended && _eventLength > MaxEventBytes)
        {
            Stop($"An event of the answer is larger than {MaxEventBytes} bytes: it cannot be checked.");
        }
    }

    /// <summary>The length of the complete event at the start of the buffer (up to and with its blank line), or null.</summary>
    private int? NextEventEnd()
    {
        while (_searched < _eventLength)
        {
            var newline = _event.AsSpan(_searched, _eventLength - _searched).IndexOf((byte)'\n');
            if (newline < 0)
            {
                _searched = _eventLength;
                return null;
            }

            var lineEnd = _searched + newline;
            var line = _event.AsSpan(_lineStart, lineEnd - _lineStart);
            _searched = _lineStart = lineEnd + 1;
            if (line.IsEmpty || line is [(byte)'\r'])
            {
                return lineEnd + 1;
            }
        }

        return null;
    }

    /// <summary>Holds one event with the text it adds, and forwards whatever has now passed.</summary>
    private void Hold(byte[] serverSentEvent)
    {
        var text = CompletionText.EventText(serverSentEvent);
        _window.Append(text);
        _received += text.Length;
        _held.Enqueue((serverSentEvent, _received));
        _heldBytes += serverSentEvent.Length;
        Release();
    }

    /// <summary>Checks every window the text received fills, and what the held events' weight asks for.</summary>
    private async Task CheckFullWindowsAsync(CancellationToken cancellationToken)
    {
        if (_size is not { } size)
        {
            if (_received > ContentSafetyCheck.MaxTextLength && ContentSafetyCheck.TooLong(_window.ToString()))
            {
                Stop($"The answer is longer than the {ContentSafetyCheck.MaxTextLength} characters Azure AI Content Safety analyzes in one window.");
            }
            else if (_heldBytes + _eventLength > MaxWholeHeldBytes)
            {
                Stop($"The answer is larger than the {MaxWholeHeldBytes} bytes held to check it as one window.");
            }

            return;
        }

        while (!_ended && _received - _windowStart >= size)
        {
            // The window's text and the character after it (to see whether the window ends inside a surrogate pair).
            var window = _window.ToString(0, (int)Math.Min(_window.Length, (long)size + 1));
            var end = TextWindows.End(window, 0, size);
            if (end == window.Length && end > 0 && char.IsHighSurrogate(window[end - 1]))
            {
                // The window would end inside a surrogate pair whose second half has not come yet.
                break;
            }

            if (!await PassesAsync(window[..end], cancellationToken))
            {
                return;
            }

            _checkedTo = _windowStart + end;
            var next = TextWindows.End(window, 0, size - _overlap);
            Advance(next);
        }

        if (!_ended && _heldBytes > MaxWindowedHeldBytes)
        {
            // Events without text piled up behind some: the window so far is checked now (unless it all was), everything
            // held goes, and windows go on after it.
            if (_received > _checkedTo && !await PassesAsync(_window.ToString(), cancellationToken))
            {
                return;
            }

            _checkedTo = _received;
            Advance(_window.Length);
        }
    }

    /// <summary>The backend's stream ended: a last event without its blank line counts, then the rest of the text is checked.</summary>
    private async Task EndAsync(CancellationToken cancellationToken)
    {
        if (_eventLength > 0)
        {
            Hold(_event.AsSpan(0, _eventLength).ToArray());
            _eventLength = 0;
        }

        if (_received > _checkedTo && !await PassesAsync(_window.ToString(), cancellationToken))
        {
            return;
        }

        _cleared = long.MaxValue;
        Release();
        _ended = true;
    }

    /// <summary>Moves the next window's start <paramref name="characters"/> on: the text before it has passed.</summary>
    private void Advance(int characters)
    {
        _window.Remove(0, characters);
        _windowStart += characters;
        _cleared = _windowStart;
        Release();
    }

    /// <summary>Forwards, in order, the held events whose text has all passed.</summary>
    private void Release()
    {
        while (_held.TryPeek(out var next) && next.TextEnd <= _cleared)
        {
            _held.Dequeue();
            _heldBytes -= next.Bytes.Length;
            _out.Enqueue(next.Bytes);
        }
    }

    private async Task<bool> PassesAsync(string window, CancellationToken cancellationToken)
    {
        if (window.Length == 0)
        {
            return true;
        }

        string? violation;
        try
        {
            violation = await _check(window, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A check that cannot be made lets nothing through, as a failed call does for a prompt.
            violation = $"The window could not be checked ({ex.GetType().Name}).";
        }

        if (violation is null)
        {
            return true;
        }

        Stop(violation);
        return false;
    }

    /// <summary>Forwards nothing more: what is held is dropped and the stream ends after what was already forwarded.</summary>
    private void Stop(string reason)
    {
        _ended = true;
        _held.Clear();
        _heldBytes = 0;
        _eventLength = 0;
        _window.Clear();
        StopReason = reason;
        _stopped(reason);
    }
}
