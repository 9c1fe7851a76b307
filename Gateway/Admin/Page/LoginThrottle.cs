namespace Gateway.Admin.Page;

/// <summary>
/// Limits guesses of the admin key on the page's sign-in form, for every client together (so that many addresses gain
/// nothing): after <see cref="MaxFailures"/> wrong keys within a <see cref="Window"/> on the injected clock, every
/// attempt is refused, the right key too, until that window ends. Only same-origin posts count (GatewayPageApi refuses
/// cross-site ones first), so another web site cannot lock the admin out.
/// </summary>
internal sealed class LoginThrottle(TimeProvider time)
{
    public const int MaxFailures = 10;

    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private DateTimeOffset _windowEnd;
    private int _failures;

    /// <summary>
    /// Takes an attempt, counted as wrong until <see cref="Succeeded"/> gives it back, so that attempts checked at the
    /// same time cannot exceed the limit together; false, with <paramref name="retryAfter"/>, once the limit is reached.
    /// </summary>
    public bool TryAttempt(out TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            if (now >= _windowEnd)
            {
                _windowEnd = now + Window;
                _failures = 0;
            }

            retryAfter = _windowEnd - now;
            if (_failures >= MaxFailures)
            {
                return false;
            }

            _failures++;
            return true;
        }
    }

    /// <summary>Gives back the attempt of a right key.</summary>
    public void Succeeded()
    {
        lock (_lock)
        {
            _failures = Math.Max(0, _failures - 1);
        }
    }
}
