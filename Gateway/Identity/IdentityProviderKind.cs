namespace Gateway.Identity;

/// <summary>Where <c>authentication-managed-identity</c> gets its tokens (<c>Identity:Provider</c>).</summary>
internal enum IdentityProviderKind
{
    /// <summary>The local issuer (<see cref="LocalTokenIssuer"/>): JWTs the mock accounts verify.</summary>
    Local,

    /// <summary>Microsoft Entra ID through Azure.Identity (<see cref="AzureTokenProvider"/>): tokens real Azure OpenAI accounts accept.</summary>
    Azure,
}
