using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Support;

/// <summary>
/// One recording backend standing for several pool members, each at its own path prefix (<c>/p1/openai/...</c>): a
/// member answers its scripted statuses first (with a Retry-After where given), then its steady status (200 unless
/// set), with the member's name as the body.
/// </summary>
internal sealed class MemberBackends : IAsyncDisposable
{
    private MemberBackends(RecordingBackend backend)
    {
        Backend = backend;
    }

    /// <summary>The backend itself: what it received, and its answer (a test may replace it).</summary>
    public RecordingBackend Backend { get; }

    public string Url => Backend.Url;

    /// <summary>The answers a member gives before its steady one, in order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(int Status, string? RetryAfter)>> Scripts { get; } = new();

    /// <summary>A member's status once its script is used up (200 when not set).</summary>
    public ConcurrentDictionary<string, int> Otherwise { get; } = new();

    /// <param name="decorate">Adds to every response (a backend's own cookie, say).</param>
    public static async Task<MemberBackends> StartAsync(Action<HttpResponse>? decorate = null)
    {
        var members = new MemberBackends(await RecordingBackend.StartAsync());
        members.Backend.Answer = async http =>
        {
            var member = http.Request.Path.Value!.Split('/')[1];
            var (status, retryAfter) = members.Scripts.TryGetValue(member, out var script) && script.TryDequeue(out var next)
                ? next
                : (members.Otherwise.GetValueOrDefault(member, 200), null);
            http.Response.StatusCode = status;
            if (retryAfter is not null)
            {
                http.Response.Headers.RetryAfter = retryAfter;
            }

            decorate?.Invoke(http.Response);
            await http.Response.WriteAsJsonAsync(new { member });
        };
        return members;
    }

    /// <summary>The members the requests went to, in order.</summary>
    public List<string> Members() => [.. Backend.Requests.Select(r => r.PathAndQuery.Split('/')[1])];

    public ValueTask DisposeAsync() => Backend.DisposeAsync();
}
