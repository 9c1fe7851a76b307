using System.Text.Json;
using Gateway.Admin.Page;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Admin;

/// <summary>
/// The gateway's own admin endpoints, under <see cref="Prefix"/>, which no API may use (API paths and operations there
/// are refused at load): <c>POST /_gateway/admin/reset[?scope=caches|counters|breakers|all]</c> clears the state of
/// every registered <see cref="IResettableState"/> of that scope, <c>GET /_gateway/admin/state</c> lists them, with each backend's circuit breaker and the token metrics' sums. They
/// exist only when <c>Gateway:AdminKey</c> is set, and answer only requests that send it in <see cref="KeyHeader"/>.
/// </summary>
internal static partial class AdminApi
{
    /// <summary>The path prefix reserved for the gateway itself.</summary>
    public const string Prefix = "/_gateway";

    public const string KeyHeader = "x-admin-key";

    public const string AllScopes = "all";

    public static WebApplication MapAdminApi(this WebApplication app)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gateway.Admin");
        if (!app.Services.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled)
        {
            Log.Disabled(logger);
            return app;
        }

        // The token metric sums start with the app, so that they count every request the state endpoint can be asked about.
        app.Services.GetRequiredService<Telemetry.TokenMetricTotals>();
        var admin = app.MapGroup(Prefix + "/admin").AddEndpointFilter<AdminKeyFilter>();
        admin.MapPost("/reset", Reset);
        admin.MapGet("/state", State);
        Log.Enabled(logger, Prefix + "/admin", KeyHeader);
        app.MapGatewayPage();
        return app;
    }

    /// <summary>Whether a request path (an API's path, or an API path with an operation's template) falls under <see cref="Prefix"/>.</summary>
    public static bool IsReserved(string path)
    {
        var first = path.TrimStart('/').Split('/', 2)[0];
        return string.Equals("/" + first, Prefix, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>A scope as the endpoints write and read it (<c>caches</c>).</summary>
    public static string ScopeName(StateScope scope) => JsonNamingPolicy.CamelCase.ConvertName(scope.ToString());

    private static Results<Ok<ResetResult>, BadRequest<AdminError>> Reset([FromQuery] string? scope, [FromServices] IEnumerable<IResettableState> states, [FromServices] ILoggerFactory loggers)
    {
        var selected = string.IsNullOrEmpty(scope) || string.Equals(scope, AllScopes, StringComparison.OrdinalIgnoreCase)
            ? Enum.GetValues<StateScope>()
            : Enum.GetValues<StateScope>().Where(s => string.Equals(ScopeName(s), scope, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (selected.Length == 0)
        {
            var valid = string.Join(", ", Enum.GetValues<StateScope>().Select(ScopeName).Append(AllScopes));
            return TypedResults.BadRequest(new AdminError(StatusCodes.Status400BadRequest, $"Unknown scope '{scope}'; use one of {valid}."));
        }

        var reset = new List<StateEntry>();
        foreach (var state in states.Where(s => selected.Contains(s.Scope)))
        {
            reset.Add(StateEntry.Of(state));
            state.Reset();
        }

        var name = selected.Length == Enum.GetValues<StateScope>().Length ? AllScopes : ScopeName(selected[0]);
        Log.Reset(loggers.CreateLogger("Gateway.Admin"), name, string.Join(", ", reset.Select(r => $"{r.Name} ({r.Entries})")));
        return TypedResults.Ok(new ResetResult(name, reset));
    }

    private static Ok<StateResult> State([FromServices] IEnumerable<IResettableState> states, [FromServices] Backends.CircuitBreakers breakers, [FromServices] Telemetry.TokenMetricTotals tokens) =>
        TypedResults.Ok(new StateResult([.. states.Select(StateEntry.Of)], breakers.Snapshot(), tokens.Snapshot()));

    private static partial class Log
    {
        [LoggerMessage(LogEvents.AdminEnabled, LogLevel.Information, "Admin endpoints at {Path}/*, for requests with the admin key in {Header}")]
        public static partial void Enabled(ILogger logger, string path, string header);

        [LoggerMessage(LogEvents.AdminDisabled, LogLevel.Debug, "No Gateway:AdminKey: the admin endpoints are off")]
        public static partial void Disabled(ILogger logger);

        [LoggerMessage(LogEvents.AdminReset, LogLevel.Information, "Admin reset of {Scope}: {States}")]
        public static partial void Reset(ILogger logger, string scope, string states);
    }
}
