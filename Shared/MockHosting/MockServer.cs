using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Settings;

namespace MockHosting;

/// <summary>How every mock Azure account starts its WireMock server.</summary>
internal static class MockServer
{
    /// <summary>
    /// Starts a WireMock server on the <c>urls</c> of <paramref name="configuration"/> (<paramref name="defaultUrls"/> when
    /// unset; several separated by <c>;</c>), with WireMock's admin API and journal only when an admin password is set,
    /// guarded by <see cref="AdminGuard"/> (realm <paramref name="adminRealm"/>), then <paramref name="middleware"/> in
    /// front of WireMock's own; keys and tokens redacted from the journal; and <c>GET /health</c> answering <c>Healthy</c>.
    /// The account's own routes are the caller's to map.
    /// </summary>
    public static WireMockServer Start(IMockServerOptions options, IConfiguration configuration, string defaultUrls, string adminRealm, Action<IApplicationBuilder>? middleware = null)
    {
        var urls = (configuration["urls"] ?? defaultUrls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var admin = !string.IsNullOrEmpty(options.AdminPassword);
        var server = WireMockServer.Start(new WireMockServerSettings
        {
            Urls = urls,
            StartAdminInterface = admin,
            AdminUsername = options.AdminUsername,
            AdminPassword = options.AdminPassword,
            PreWireMockMiddlewareInit = app =>
            {
                var builder = (IApplicationBuilder)app;
                if (admin)
                {
                    new AdminGuard(options.AdminUsername, options.AdminPassword!, adminRealm).Install(builder);
                }

                middleware?.Invoke(builder);
            },
            MaxRequestLogCount = options.JournalSize,
            AllowBodyForAllHttpMethods = false,
        });

        JournalRedaction.Install(server);
        server.Given(Request.Create().WithPath("/health").UsingGet())
            .RespondWith(Response.Create().WithStatusCode(200).WithBody("Healthy"));
        return server;
    }
}
