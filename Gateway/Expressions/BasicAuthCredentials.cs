namespace Gateway.Expressions;

/// <summary>The credentials of an HTTP Basic <c>Authorization</c> header value, as <c>AsBasic()</c> reads them.</summary>
public sealed class BasicAuthCredentials
{
    public BasicAuthCredentials(string userId, string password)
    {
        UserId = userId;
        Password = password;
    }

    /// <summary>The password: everything after the first colon of the decoded credentials.</summary>
    public string Password { get; }

    /// <summary>The user id: everything before the first colon of the decoded credentials (RFC 7617 forbids a colon in it).</summary>
    public string UserId { get; }
}
