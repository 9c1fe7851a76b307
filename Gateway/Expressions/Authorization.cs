namespace Gateway.Expressions;

/// <summary>
/// What <c>get-authorization-context</c> stores in its <c>context-variable-name</c> (API Management's
/// <c>Authorization</c>): policies read it as <c>((Authorization)context.Variables.GetValueOrDefault("auth"))?.AccessToken</c>.
/// </summary>
public sealed class Authorization
{
    internal Authorization(string accessToken, IReadOnlyDictionary<string, object> claims)
    {
        AccessToken = accessToken;
        Claims = claims;
    }

    /// <summary>The bearer token to authorize a backend request with.</summary>
    public string AccessToken { get; }

    /// <summary>The claims of the authorization server's token response (RFC 6749, section 5.1).</summary>
    public IReadOnlyDictionary<string, object> Claims { get; }

    /// <summary>The type's name only: the token is a secret, and a value is turned into text in headers, bodies and traces.</summary>
    public override string ToString() => nameof(Authorization);
}
