namespace Gateway.Apim.Model;

/// <summary>
/// Where a session's id travels (ARM: <c>BackendSessionId</c>): <c>source</c>, whose only value is <c>Cookie</c>, and the
/// cookie's <c>name</c>.
/// </summary>
internal sealed record SessionIdDefinition(string? Source, string? Name)
{
    /// <summary>The one source the REST API defines (its enum spells it <c>cookie</c>; Microsoft's samples write <c>Cookie</c>).</summary>
    public const string CookieSource = "Cookie";

    /// <summary>Whether <paramref name="name"/> can name a cookie: one or more RFC 6265 token characters.</summary>
    public static bool IsCookieName(string? name) =>
        !string.IsNullOrEmpty(name) && name.All(c => c is > ' ' and < '\u007f' && !"()<>@,;:\\\"/[]?={}".Contains(c, StringComparison.Ordinal));
}
