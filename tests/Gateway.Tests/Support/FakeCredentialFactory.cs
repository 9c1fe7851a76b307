using System.Collections.Concurrent;
using Azure.Core;
using Gateway.Identity;
using AccessToken = Azure.Core.AccessToken;

namespace Gateway.Tests.Support;

/// <summary>
/// Azure credentials that never leave the process: each records the token requests it gets and answers with
/// <c>{TokenPrefix}{n}</c> (n counts the requests all of them got), living <see cref="Lifetime"/> on the given clock,
/// or throws the next queued failure (a null in the queue is one success).
/// </summary>
internal sealed class FakeCredentialFactory(TimeProvider time) : ITokenCredentialFactory
{
    private readonly ConcurrentDictionary<string, FakeCredential> _credentials = new(StringComparer.Ordinal);
    private int _requests;

    public TimeProvider Time { get; } = time;

    public TimeSpan Lifetime { get; init; } = TimeSpan.FromHours(1);

    public string TokenPrefix { get; init; } = "token-";

    /// <summary>How long each token request takes (on the real clock).</summary>
    public TimeSpan Delay { get; init; }

    public ConcurrentQueue<Exception?> Failures { get; } = new();

    /// <summary>The client ids credentials were made for, in order (null: the system-assigned identity).</summary>
    public ConcurrentQueue<string?> Created { get; } = new();

    public FakeCredential Credential(string? clientId) => _credentials[clientId ?? string.Empty];

    public TokenCredential Create(string? clientId)
    {
        Created.Enqueue(clientId);
        return _credentials.GetOrAdd(clientId ?? string.Empty, _ => new FakeCredential(this));
    }

    internal sealed class FakeCredential(FakeCredentialFactory factory) : TokenCredential
    {
        public ConcurrentQueue<TokenRequestContext> Requests { get; } = new();

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Requests.Enqueue(requestContext);
            var n = Interlocked.Increment(ref factory._requests);
            if (factory.Delay > TimeSpan.Zero)
            {
                await Task.Delay(factory.Delay, cancellationToken);
            }

            if (factory.Failures.TryDequeue(out var failure) && failure is not null)
            {
                throw failure;
            }

            return new AccessToken(factory.TokenPrefix + n, factory.Time.GetUtcNow() + factory.Lifetime);
        }
    }
}
