using System.Globalization;
using System.Net;
using Gateway.Apim;
using Gateway.Backends;
using Gateway.RateLimiting;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Gateway.Admin.Page;

/// <summary>
/// The gateway page, under <see cref="Path"/>: a sign-in form that takes the admin key (<c>Gateway:AdminKey</c>) in a
/// POST body, never in a URL, compares it in constant time and, when right, sets an HttpOnly, SameSite=Strict cookie
/// holding a random session id (<see cref="PageSessions"/>); wrong keys are limited by <see cref="LoginThrottle"/>. The
/// page itself polls <c>state</c> (<see cref="PageState"/>) behind the same cookie. Its HTML, CSS and script are
/// embedded in this assembly and load nothing from elsewhere; every answer carries a <see cref="ContentSecurityPolicy"/>
/// that allows only the gateway itself. It exists when the admin endpoints do.
/// </summary>
internal static partial class GatewayPageApi
{
    public const string Path = AdminApi.Prefix + "/ui";

    public const string CookieName = "gateway-page-session";

    /// <summary>The form field that carries the admin key.</summary>
    public const string KeyField = "key";

    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    public const string WrongKeyMessage = "That is not the gateway's admin key.";

    public const string CrossSiteMessage = "Sign in from the gateway page itself.";

    public static WebApplication MapGatewayPage(this WebApplication app)
    {
        var page = app.MapGroup(Path).AddEndpointFilter(async (context, next) =>
        {
            var headers = context.HttpContext.Response.Headers;
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            return await next(context);
        });
        page.MapGet("/", Index);
        page.MapGet("/login", LoginForm);
        page.MapPost("/login", LogInAsync).DisableAntiforgery();
        page.MapPost("/logout", LogOut).DisableAntiforgery();
        page.MapGet("/state", State);
        page.MapGet("/assets/{name}", Asset);
        return app;
    }

    private static Results<ContentHttpResult, RedirectHttpResult> Index(HttpContext context, [FromServices] PageSessions sessions) =>
        sessions.IsValid(context.Request.Cookies[CookieName])
            ? Html(PageAssets.Page, StatusCodes.Status200OK)
            : TypedResults.Redirect(Path + "/login");

    private static Results<ContentHttpResult, RedirectHttpResult> LoginForm(HttpContext context, [FromServices] PageSessions sessions) =>
        sessions.IsValid(context.Request.Cookies[CookieName])
            ? TypedResults.Redirect(Path + "/")
            : LoginPage(StatusCodes.Status200OK, message: null);

    private static async Task<Results<ContentHttpResult, RedirectHttpResult>> LogInAsync(
        HttpContext context,
        [FromServices] PageSessions sessions,
        [FromServices] LoginThrottle throttle,
        [FromServices] IOptions<AdminOptions> options,
        [FromServices] ILoggerFactory loggers)
    {
        var logger = loggers.CreateLogger("Gateway.Admin.Page");
        if (IsCrossSite(context.Request))
        {
            Log.CrossSite(logger);
            return LoginPage(StatusCodes.Status403Forbidden, CrossSiteMessage);
        }

        if (!throttle.TryAttempt(out var wait))
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));
            Log.Throttled(logger, LoginThrottle.MaxFailures);
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return LoginPage(StatusCodes.Status429TooManyRequests, $"Too many wrong keys: try again in {seconds} seconds.");
        }

        var presented = context.Request.HasFormContentType
            ? (await context.Request.ReadFormAsync(context.RequestAborted)).TryGetValue(KeyField, out var value) ? value.ToString() : string.Empty
            : string.Empty;
        if (!AdminKeyFilter.Matches(presented, AdminKeyFilter.Digest(options.Value.AdminKey)))
        {
            Log.Refused(logger, presented.Length == 0 ? "missing" : "wrong");
            return LoginPage(StatusCodes.Status401Unauthorized, WrongKeyMessage);
        }

        throttle.Succeeded();
        context.Response.Cookies.Append(CookieName, sessions.Start(), new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            Path = Path,
            MaxAge = PageSessions.Lifetime,
            IsEssential = true,
        });
        Log.SignedIn(logger);
        return TypedResults.Redirect(Path + "/");
    }

    private static Results<RedirectHttpResult, ContentHttpResult> LogOut(HttpContext context, [FromServices] PageSessions sessions, [FromServices] ILoggerFactory loggers)
    {
        if (IsCrossSite(context.Request))
        {
            Log.CrossSite(loggers.CreateLogger("Gateway.Admin.Page"));
            return LoginPage(StatusCodes.Status403Forbidden, CrossSiteMessage);
        }

        sessions.End(context.Request.Cookies[CookieName]);
        context.Response.Cookies.Delete(CookieName, new CookieOptions { Path = Path, HttpOnly = true, SameSite = SameSiteMode.Strict, Secure = context.Request.IsHttps });
        Log.SignedOut(loggers.CreateLogger("Gateway.Admin.Page"));
        return TypedResults.Redirect(Path + "/login");
    }

    private static Results<Ok<PageState>, JsonHttpResult<AdminError>> State(
        HttpContext context,
        [FromServices] PageSessions sessions,
        [FromServices] ArtifactsProvider artifacts,
        [FromServices] CircuitBreakers breakers,
        [FromServices] BackendTraffic traffic,
        [FromServices] TokenLimits tokens,
        [FromServices] TimeProvider time) =>
        sessions.IsValid(context.Request.Cookies[CookieName])
            ? TypedResults.Ok(PageState.Read(artifacts, breakers, traffic, tokens, time))
            : TypedResults.Json(new AdminError(StatusCodes.Status401Unauthorized, "Sign in at " + Path + "/login first."), statusCode: StatusCodes.Status401Unauthorized);

    /// <summary>
    /// Whether a browser sent the post from another site (Fetch Metadata's <c>Sec-Fetch-Site</c>, else <c>Origin</c>):
    /// such posts are refused before anything is counted, so no other page can sign in, sign out or spend the sign-in
    /// limit. Clients that are not browsers send neither header and are not refused.
    /// </summary>
    public static bool IsCrossSite(HttpRequest request)
    {
        if (request.Headers.TryGetValue("Sec-Fetch-Site", out var site))
        {
            return site.ToString() is not ("same-origin" or "none");
        }

        var origin = request.Headers.Origin.ToString();
        return origin.Length > 0 && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
    }

    private static Results<FileContentHttpResult, NotFound> Asset(string name) =>
        PageAssets.Find(name) is { } asset ? TypedResults.Bytes(asset.Content, asset.ContentType) : TypedResults.NotFound();

    private static ContentHttpResult LoginPage(int statusCode, string? message) =>
        Html(PageAssets.Login.Replace("{{message}}", message is null ? string.Empty : WebUtility.HtmlEncode(message), StringComparison.Ordinal), statusCode);

    private static ContentHttpResult Html(string html, int statusCode) => TypedResults.Content(html, "text/html; charset=utf-8", statusCode: statusCode);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.PageSignedIn, LogLevel.Information, "Gateway page: signed in")]
        public static partial void SignedIn(ILogger logger);

        [LoggerMessage(LogEvents.PageSignInRefused, LogLevel.Warning, "Gateway page: refused a sign-in with a {Problem} admin key")]
        public static partial void Refused(ILogger logger, string problem);

        [LoggerMessage(LogEvents.PageSignInThrottled, LogLevel.Warning, "Gateway page: refused a sign-in unchecked, after {Failures} wrong keys within a minute")]
        public static partial void Throttled(ILogger logger, int failures);

        [LoggerMessage(LogEvents.PageCrossSite, LogLevel.Warning, "Gateway page: refused a sign-in or sign-out posted from another site")]
        public static partial void CrossSite(ILogger logger);

        [LoggerMessage(LogEvents.PageSignedOut, LogLevel.Information, "Gateway page: signed out")]
        public static partial void SignedOut(ILogger logger);
    }
}
