namespace Gateway.Admin.Page;

/// <summary>
/// Limits guesses of the admin key on the page's sign-in form, for every client together (so that many addresses gain
/// nothing): after <see cref="MaxFailures"/> wrong keys within a <see cref="Window"/> on the injected clock, every
/// attempt is refused, the right key too, until that window ends.
/// </summary>
internal sealed class LoginThrottle(TimeProvider time)
{
    public const int MaxFailures = 10;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private DateTimeOffset _windowEnd;
    private int _failures;

    /// <summary>Whether an attempt may be checked now; when not, <paramref name="retryAfter"/> is how long until one may.</summary>
    public bool Allows(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            retryAfter = _windowEnd - now;
            return now >= _windowEnd || _failures < MaxFailures;
        }
    }

    public void Failed()
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now >= _windowEnd)
            {
                _windowEnd = now + Window;
                _failures = 0;
            }

            _failures++;
        }
    }
}
