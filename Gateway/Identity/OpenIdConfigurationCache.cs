using System.Collections.Concurrent;
using System.Text.Json;
using Gateway.Telemetry;
using Microsoft.IdentityModel.Tokens;

namespace Gateway.Identity;

/// <summary>
/// The signing keys and issuer of OpenID configuration documents (<c>validate-jwt</c>'s <c>openid-config</c>), cached
/// as API Management caches them: fetched again after an hour, and sooner when a token names a key (<c>kid</c>) the
/// cached set lacks or the last fetch failed, but at most once every five minutes. A location is an http(s) URL or a
/// file path under the apim folder; the document's <c>jwks_uri</c> is read the same way.
/// </summary>
internal sealed partial class OpenIdConfigurationCache(IHttpClientFactory clients, TimeProvider time, ILogger<OpenIdConfigurationCache> logger)
{
    public const string HttpClientName = "openid-config";

    /// <summary>How long fetched keys are used before they are fetched again.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromHours(1);

    /// <summary>The least time between two fetches of one document (for an unknown key id or after a failure).</summary>
    public static readonly TimeSpan MinimumRefreshInterval = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>The configuration at <paramref name="location"/>; empty when it has never been fetched successfully.</summary>
    /// <param name="location">An http(s) URL, or a path relative to <paramref name="apimPath"/>.</param>
    /// <param name="apimPath">The apim folder, which file locations must stay inside.</param>
    /// <param name="keyId">The <c>kid</c> of the token being validated, if any: a key id the cached keys lack triggers a fetch.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    public async ValueTask<OpenIdConfiguration> GetAsync(string location, string apimPath, string? keyId, CancellationToken cancellationToken)
    {
        var entry = _entries.GetOrAdd(location, _ => new Entry());
        if (!entry.NeedsFetch(time.GetUtcNow(), keyId))
        {
            return entry.Configuration;
        }

        await entry.Gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            if (entry.NeedsFetch(now, keyId))
            {
                var previousAttempt = entry.LastAttempt;
                entry.LastAttempt = now;
                try
                {
                    entry.Configuration = await FetchAsync(location, apimPath, cancellationToken);
                    entry.LastSuccess = now;
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The caller left: that is no failure of the document, so the next request fetches at once.
                    entry.LastAttempt = previousAttempt;
                    throw;
                }
                catch (Exception ex) when ((ex is HttpRequestException or IOException or JsonException or ArgumentException or InvalidOperationException or UnauthorizedAccessException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
                {
                    // The keys fetched before stay in use; tokens signed with other keys fail until a fetch succeeds.
                    Log.FetchFailed(logger, location, ex.Message);
                }
            }

            return entry.Configuration;
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private async Task<OpenIdConfiguration> FetchAsync(string location, string apimPath, CancellationToken cancellationToken)
    {
        using var document = JsonDocument.Parse(await ReadAsync(location, apimPath, cancellationToken));
        var root = document.RootElement;
        var jwksUri = root.TryGetProperty("jwks_uri", out var uri) && uri.ValueKind == JsonValueKind.String ? uri.GetString()! : throw new InvalidOperationException("the document has no jwks_uri");
        if (IsHttp(location) && !IsHttp(jwksUri))
        {
            // A document fetched over the network must not make the gateway read its own files.
            throw new InvalidOperationException("the jwks_uri of a document fetched over http(s) must be an absolute http(s) URL");
        }

        var issuer = root.TryGetProperty("issuer", out var iss) && iss.ValueKind == JsonValueKind.String ? iss.GetString() : null;
        var keys = new JsonWebKeySet(await ReadAsync(jwksUri, apimPath, cancellationToken)).GetSigningKeys();
        foreach (var key in keys)
        {
            // The JWT library compares every key's id with the token's kid and fails on a null one.
            key.KeyId ??= string.Empty;
        }

        Log.Fetched(logger, location, keys.Count);
        return new OpenIdConfiguration(issuer, [.. keys]);
    }

    private static bool IsHttp(string location) =>
        Uri.TryCreate(location, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    private async Task<string> ReadAsync(string location, string apimPath, CancellationToken cancellationToken)
    {
        if (IsHttp(location) && Uri.TryCreate(location, UriKind.Absolute, out var uri))
        {
            using var client = clients.CreateClient(HttpClientName);
            return await client.GetStringAsync(uri, cancellationToken);
        }

        return await File.ReadAllTextAsync(ResolveFile(location, apimPath), cancellationToken);
    }

    /// <summary>A file location as a full path inside the apim folder.</summary>
    /// <exception cref="ArgumentException">The location points outside the apim folder.</exception>
    public static string ResolveFile(string location, string apimPath)
    {
        var root = Path.GetFullPath(apimPath);
        var path = Path.GetFullPath(Path.Combine(root, location));
        return path.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            ? path
            : throw new ArgumentException($"'{location}' is neither an http(s) URL nor a file inside the apim folder");
    }

    private sealed class Entry
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public OpenIdConfiguration Configuration { get; set; } = OpenIdConfiguration.Empty;

        public DateTimeOffset? LastSuccess { get; set; }

        public DateTimeOffset? LastAttempt { get; set; }

        public bool NeedsFetch(DateTimeOffset now, string? keyId)
        {
            if (LastAttempt is not { } attempted)
            {
                return true;
            }

            if (now - attempted < MinimumRefreshInterval)
            {
                return false;
            }

            return LastSuccess is not { } succeeded
                || now - succeeded >= RefreshInterval
                || (keyId is not null && !Configuration.Keys.Any(k => string.Equals(k.KeyId, keyId, StringComparison.Ordinal)));
        }
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.OpenIdConfigurationFetched, LogLevel.Information, "Fetched OpenID configuration {Location}: {Keys} signing key(s)")]
        public static partial void Fetched(ILogger logger, string location, int keys);

        [LoggerMessage(LogEvents.OpenIdConfigurationFetchFailed, LogLevel.Warning, "Could not fetch OpenID configuration {Location}: {Problem}")]
        public static partial void FetchFailed(ILogger logger, string location, string problem);
    }
}

/// <summary>What <c>validate-jwt</c> takes from an OpenID configuration document: its issuer and signing keys.</summary>
internal sealed record OpenIdConfiguration(string? Issuer, IReadOnlyList<SecurityKey> Keys)
{
    public static OpenIdConfiguration Empty { get; } = new(null, []);
}
