using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace MockHosting;

/// <summary>
/// Guards WireMock's admin API (<c>/__admin</c>) in front of WireMock's own check, and the mock's own fault control
/// (<c>/__mock</c>: MockOpenAI's fault control): HTTP Basic credentials compared in constant time, and a 401 with a
/// <c>WWW-Authenticate</c> challenge for missing or wrong ones (WireMock itself answers a wrong password with a 500).
/// </summary>
internal sealed class AdminGuard(string username, string password, string realm)
{
    public const string AdminPath = "/__admin";

    /// <summary>The prefix of the mock's own admin endpoints.</summary>
    public const string MockAdminPath = "/__mock";

    private readonly byte[] _expected = SHA256.HashData(Encoding.UTF8.GetBytes($"{username}:{password}"));

    public void Install(IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var guarded = context.Request.Path.StartsWithSegments(AdminPath) || context.Request.Path.StartsWithSegments(MockAdminPath);
        if (!guarded || Allows(context.Request.Headers.Authorization.ToString()))
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{realm}\"";
    });

    private bool Allows(string authorization)
    {
        const string Scheme = "Basic ";
        if (!authorization.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) || authorization.Length > 1024)
        {
            return false;
        }

        Span<byte> decoded = stackalloc byte[authorization.Length];
        return Convert.TryFromBase64String(authorization[Scheme.Length..].Trim(), decoded, out var length)
            && CryptographicOperations.FixedTimeEquals(SHA256.HashData(decoded[..length]), _expected);
    }
}
