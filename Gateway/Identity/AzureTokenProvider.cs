using System.Collections.Concurrent;
using Azure;
using Azure.Core;
using Azure.Identity;
using Gateway.Telemetry;

namespace Gateway.Identity;

/// <summary>
/// Managed-identity tokens from Microsoft Entra ID through Azure.Identity, for a gateway in front of real Azure OpenAI
/// accounts. One credential per client id (made on first use, never per request); tokens are cached per resource and
/// client id until shortly before they expire, as API Management and the local issuer cache them, and one request at
/// a time fetches a token for a given pair (a developer-login credential such as the Azure CLI runs a process per call).
/// </summary>
internal sealed partial class AzureTokenProvider(ITokenCredentialFactory credentials, TimeProvider time, ILogger<AzureTokenProvider> logger)
    : IManagedIdentityTokenProvider
{
    /// <summary>A cached token is renewed this long before it expires, as the local issuer renews its tokens.</summary>
    public static readonly TimeSpan RenewBeforeExpiry = LocalTokenIssuer.RenewBeforeExpiry;

    private const string SystemAssigned = "system-assigned";

    private readonly ConcurrentDictionary<string, Lazy<TokenCredential>> _credentials = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Resource, string ClientId), Entry> _entries = new();

    /// <summary>The scope that asks Entra ID for a token for <paramref name="resource"/>: the resource followed by <c>/.default</c>.</summary>
    /// <remarks>Kept as given: a resource whose id ends with a slash needs the double slash (<c>https://database.windows.net//.default</c>).</remarks>
    public static string ScopeOf(string resource) => resource + "/.default";

    public async ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd((resource, clientId ?? SystemAssigned), _ => new Entry());
        if (entry.Token is { } cached && IsFresh(cached.Token))
        {
            return cached.Token;
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            if (entry.Token is { } fetched && IsFresh(fetched.Token))
            {
                return fetched.Token;
            }

            var token = await FetchAsync(resource, clientId, cancellationToken);
            entry.Token = new CachedToken(token);
            return token;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private bool IsFresh(AccessToken token) => token.ExpiresOn - RenewBeforeExpiry > time.GetUtcNow();

    private async Task<AccessToken> FetchAsync(string resource, string? clientId, CancellationToken cancellationToken)
    {
        var credential = _credentials.GetOrAdd(clientId ?? SystemAssigned, _ => new Lazy<TokenCredential>(() => credentials.Create(clientId))).Value;
        var scope = ScopeOf(resource);
        try
        {
            var token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken);
            Log.TokenAcquired(logger, scope, clientId ?? SystemAssigned, token.ExpiresOn);
            return new AccessToken(token.Token, token.ExpiresOn);
        }
        catch (Exception ex) when (ex is AuthenticationFailedException or RequestFailedException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The credential's message says which sources it tried and why each failed; it never holds a token.
            Log.TokenFailed(logger, scope, clientId ?? SystemAssigned, ex.Message);
            throw new ManagedIdentityTokenException($"Azure.Identity could not get a token for scope '{scope}': {ex.Message}", ex);
        }
    }

    private sealed class Entry
    {
        private CachedToken? _token;

        public SemaphoreSlim Gate { get; } = new(1, 1);

        /// <summary>Read without the gate: a reference swapped whole, so a reader never sees half a token.</summary>
        public CachedToken? Token
        {
            get => Volatile.Read(ref _token);
            set => Volatile.Write(ref _token, value);
        }
    }

    private sealed record CachedToken(AccessToken Token);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.AzureTokenAcquired, LogLevel.Information, "Got a managed-identity token from Azure for {Scope} (identity {ClientId}), expiring {ExpiresOn:O}")]
        public static partial void TokenAcquired(ILogger logger, string scope, string clientId, DateTimeOffset expiresOn);

        [LoggerMessage(LogEvents.AzureTokenFailed, LogLevel.Warning, "Could not get a managed-identity token from Azure for {Scope} (identity {ClientId}): {Problem}")]
        public static partial void TokenFailed(ILogger logger, string scope, string clientId, string problem);
    }
}
