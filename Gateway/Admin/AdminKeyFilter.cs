using System.Security.Cryptography;
using System.Text;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary>
/// Lets a request through to the admin endpoints only with the admin key in <see cref="AdminApi.KeyHeader"/>, compared in
/// constant time (SHA-256 digests of equal length). A missing or wrong key gets a 401.
/// </summary>
internal sealed partial class AdminKeyFilter(IOptions<AdminOptions> options, ILogger<AdminKeyFilter> logger) : IEndpointFilter
{
    private readonly byte[] _digest = Digest(options.Value.AdminKey);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        string presented = request.Headers[AdminApi.KeyHeader].ToString();
        if (!Matches(presented, _digest))
        {
            Log.Refused(logger, request.Method, request.Path, presented.Length == 0 ? "missing" : "wrong");
            return TypedResults.Json(
                new AdminError(StatusCodes.Status401Unauthorized, $"Access denied due to a missing or invalid admin key. Send Gateway:AdminKey in the {AdminApi.KeyHeader} header."),
                statusCode: StatusCodes.Status401Unauthorized);
        }

        return await next(context);
    }

    /// <summary>The SHA-256 digest a presented key is compared against.</summary>
    public static byte[] Digest(string? key) => SHA256.HashData(Encoding.UTF8.GetBytes(key ?? string.Empty));

    /// <summary>Whether <paramref name="presented"/> is the key of <paramref name="digest"/>, in constant time (digests of equal length, no early exit); an empty key never is.</summary>
    public static bool Matches(string presented, byte[] digest) =>
        CryptographicOperations.FixedTimeEquals(Digest(presented), digest) & presented.Length > 0;

    private static partial class Log
    {
        [LoggerMessage(LogEvents.AdminKeyRefused, LogLevel.Warning, "Refused {Method} {Path}: {Problem} admin key")]
        public static partial void Refused(ILogger logger, string method, PathString path, string problem);
    }
}
