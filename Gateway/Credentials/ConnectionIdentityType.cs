namespace Gateway.Credentials;

/// <summary>Whose permission to use a connection <c>get-authorization-context</c> checks (its <c>identity-type</c>).</summary>
internal enum ConnectionIdentityType
{
    /// <summary><c>managed</c>: the gateway's own managed identity.</summary>
    Managed,

    /// <summary><c>jwt</c>: the Microsoft Entra token given in <c>identity</c>.</summary>
    Jwt,
}
