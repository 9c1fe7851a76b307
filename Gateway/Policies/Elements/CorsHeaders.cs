namespace Gateway.Policies.Elements;

/// <summary>The headers of the CORS protocol (the Fetch standard's names).</summary>
internal static class CorsHeaders
{
    public const string Origin = "Origin";

    public const string RequestMethod = "Access-Control-Request-Method";

    public const string RequestHeaders = "Access-Control-Request-Headers";

    public const string AllowOrigin = "Access-Control-Allow-Origin";

    public const string AllowCredentials = "Access-Control-Allow-Credentials";

    public const string AllowMethods = "Access-Control-Allow-Methods";

    public const string AllowHeaders = "Access-Control-Allow-Headers";

    public const string ExposeHeaders = "Access-Control-Expose-Headers";

    public const string MaxAge = "Access-Control-Max-Age";
}
