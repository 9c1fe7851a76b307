using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gateway.Admin.Page;

/// <summary>
/// The gateway page's sign-ins: a random session id (256 bits) the browser keeps in an HttpOnly cookie, mapped here to
/// its expiry on the injected clock. Nothing survives a restart. At most <see cref="MaxSessions"/> live at once; a new
/// one past that pushes out the one that expires first.
/// </summary>
internal sealed class PageSessions(TimeProvider time)
{
    public const int MaxSessions = 64;

    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _sessions = new(StringComparer.Ordinal);

    /// <summary>Starts a session; returns its id, for the cookie.</summary>
    public string Start()
    {
        var now = time.GetUtcNow();
        foreach (var (id, expires) in _sessions)
        {
            if (expires <= now)
            {
                _sessions.TryRemove(id, out _);
            }
        }

        while (_sessions.Count >= MaxSessions && _sessions.MinBy(s => s.Value) is { Key: { } oldest })
        {
            _sessions.TryRemove(oldest, out _);
        }

        var session = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _sessions[session] = now + Lifetime;
        return session;
    }

    /// <summary>Whether <paramref name="session"/> is a live session (an expired one is forgotten).</summary>
    public bool IsValid(string? session)
    {
        if (string.IsNullOrEmpty(session) || !_sessions.TryGetValue(session, out var expires))
        {
            return false;
        }

        if (expires > time.GetUtcNow())
        {
            return true;
        }

        _sessions.TryRemove(session, out _);
        return false;
    }

    public void End(string? session)
    {
        if (!string.IsNullOrEmpty(session))
        {
            _sessions.TryRemove(session, out _);
        }
    }
}
