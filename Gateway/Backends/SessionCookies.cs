using System.Buffers.Text;
using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Gateway.Pipeline;
using Gateway.Telemetry;
using Microsoft.Net.Http.Headers;

namespace Gateway.Backends;

/// <summary>
/// The session cookies of pools with <c>sessionAffinity</c>. A cookie's value names a member without showing it: the
/// first 16 bytes of HMAC-SHA256 over the pool's and the member's ids, keyed with this gateway instance's secret,
/// base64url-encoded. Nothing is stored per session; a value that names no member of the pool (tampered, from another
/// pool or another instance's key) is treated as no cookie at all. The cookie is a session cookie on path <c>/</c>,
/// HttpOnly, and Secure with SameSite=None when the client came over HTTPS.
/// </summary>
internal sealed partial class SessionCookies
{
    /// <summary>The length of the instance's secret.</summary>
    public const int KeyBytes = 32;

    private const int TokenBytes = 16;

    private readonly byte[] _key;
    private readonly ILogger<SessionCookies> _logger;
    private readonly ConditionalWeakTable<BackendPool, PoolTokens> _tokens = [];
    private readonly ConditionalWeakTable<BackendPool, PoolTokens>.CreateValueCallback _createTokens;

    public SessionCookies(byte[] key, ILogger<SessionCookies> logger)
    {
        if (key.Length < KeyBytes)
        {
            throw new ArgumentException($"The session cookie key must have at least {KeyBytes} bytes.", nameof(key));
        }

        _key = [.. key];
        _logger = logger;
        _createTokens = CreateTokens;
    }

    /// <summary>
    /// The request's session with <paramref name="pool"/>: on the pool's first <c>forward-request</c> of the request, read
    /// from the cookie the request carries (as the policy left its headers); the same session on later ones (a retry).
    /// </summary>
    public PoolSession SessionFor(RequestContext context, BackendPool pool, PoolSessionAffinity affinity)
    {
        if (context.FindPoolSession(pool) is { } existing)
        {
            return existing;
        }

        var tokens = _tokens.GetValue(pool, _createTokens);
        var requested = ReadCookie(context.RequestHeaders, affinity.CookieName) is { } value && tokens.Members.TryGetValue(value, out var member)
            ? member
            : null;
        var session = new PoolSession(pool, requested);
        context.AddPoolSession(session);

        // Added to whatever response the client finally gets: the backend's (buffered or streamed) or one the policy made.
        context.OnCompleted(() => Issue(context, session, affinity.CookieName, tokens));
        return session;
    }

    private static string? ReadCookie(RequestHeaders headers, string name)
    {
        if (!headers.TryGetValue(HeaderNames.Cookie, out var values) || !CookieHeaderValue.TryParseList(values, out var cookies))
        {
            return null;
        }

        foreach (var cookie in cookies)
        {
            if (cookie.Name.Equals(name, StringComparison.Ordinal))
            {
                return cookie.Value.ToString();
            }
        }

        return null;
    }

    private void Issue(RequestContext context, PoolSession session, string cookieName, PoolTokens tokens)
    {
        if (!session.Repinned)
        {
            return;
        }

        var member = session.Member!;
        if (session.Requested is { } previous)
        {
            Log.Repinned(_logger, session.Pool.Id, previous.Id, member.Id);
        }

        var https = context.HttpContext.Request.IsHttps;
        var cookie = new SetCookieHeaderValue(cookieName, tokens.Values[member])
        {
            Path = "/",
            HttpOnly = true,
            Secure = https,
            SameSite = https ? Microsoft.Net.Http.Headers.SameSiteMode.None : Microsoft.Net.Http.Headers.SameSiteMode.Unspecified,
        }.ToString();

        // The backend's own cookies stay: ours is one more Set-Cookie line.
        var headers = context.Response.Headers;
        headers[HeaderNames.SetCookie] = headers.TryGetValue(HeaderNames.SetCookie, out var existing) ? [.. existing, cookie] : [cookie];
    }

    private PoolTokens CreateTokens(BackendPool pool)
    {
        var values = new Dictionary<Backend, string>(ReferenceEqualityComparer.Instance);
        foreach (var member in pool.Members)
        {
            var data = Encoding.UTF8.GetBytes($"{pool.Id.ToUpperInvariant()}\n{member.Backend.Id.ToUpperInvariant()}");
            values[member.Backend] = Base64Url.EncodeToString(HMACSHA256.HashData(_key, data).AsSpan(0, TokenBytes));
        }

        return new PoolTokens(values.ToFrozenDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal), values);
    }

    /// <summary>A pool's cookie values, both ways.</summary>
    private sealed record PoolTokens(FrozenDictionary<string, Backend> Members, Dictionary<Backend, string> Values);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.SessionRepinned, LogLevel.Information, "Pool {PoolId}: the session's member {Previous} is unavailable; the session is pinned to {Member} now")]
        public static partial void Repinned(ILogger logger, string poolId, string previous, string member);
    }
}
