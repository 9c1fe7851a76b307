using System.Collections.Specialized;
using Microsoft.IdentityModel.JsonWebTokens;
using WireMock.Logging;
using WireMock.Types;

namespace MockHosting;

/// <summary>
/// Keeps secrets out of WireMock's request journal (<c>/__admin/requests</c>): each entry's <c>Authorization</c>,
/// <c>api-key</c> and <c>Ocp-Apim-Subscription-Key</c> values are replaced as the entry is recorded (after the account
/// has checked them). In place of a bearer token the entry keeps the token's claims that tests and people look at, in
/// <see cref="ClaimsHeader"/>: <c>aud</c>, <c>iss</c>, <c>appid</c>, <c>oid</c> and <c>exp</c>, never the signed token
/// itself.
/// </summary>
internal static class JournalRedaction
{
    public const string Redacted = "[redacted]";

    /// <summary>The journal-only header that carries a bearer token's claims.</summary>
    public const string ClaimsHeader = "x-mock-token-claims";

    private static readonly string[] SecretHeaders = ["Authorization", "api-key", "Ocp-Apim-Subscription-Key"];
    private static readonly string[] KeptClaims = ["aud", "iss", "appid", "oid", "exp"];

    public static void Install(WireMock.Server.WireMockServer server) => server.LogEntriesChanged += (_, change) =>
    {
        if (change.Action != NotifyCollectionChangedAction.Add || change.NewItems is null)
        {
            return;
        }

        foreach (var entry in change.NewItems.OfType<ILogEntry>())
        {
            Redact(entry.RequestMessage?.Headers);
        }
    };

    public static void Redact(IDictionary<string, WireMockList<string>>? headers)
    {
        if (headers is null)
        {
            return;
        }

        foreach (var name in headers.Keys.Where(k => SecretHeaders.Contains(k, StringComparer.OrdinalIgnoreCase)).ToList())
        {
            var values = headers[name];
            if (string.Equals(name, "Authorization", StringComparison.OrdinalIgnoreCase) && values.Count > 0 && Claims(values[0]) is { } claims)
            {
                headers[ClaimsHeader] = new WireMockList<string>(claims);
            }

            headers[name] = new WireMockList<string>(values.Select(v => v.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? "Bearer " + Redacted : Redacted));
        }
    }

    private static string? Claims(string authorization)
    {
        const string Scheme = "Bearer ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        try
        {
            var token = new JsonWebToken(authorization[Scheme.Length..].Trim());
            return string.Join("; ", KeptClaims.Select(c => token.TryGetPayloadValue<object>(c, out var value) ? $"{c}={value}" : null).OfType<string>());
        }
        catch (ArgumentException)
        {
            return "not a JWT";
        }
    }
}
