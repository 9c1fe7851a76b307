namespace LocalIdentity;

/// <summary>
/// The claims the local stand-in for Microsoft Entra ID agrees on: the gateway's local issuer signs managed-identity
/// tokens with this issuer, and a mock Azure OpenAI account accepts tokens from this issuer for this audience.
/// </summary>
internal static class LocalTokenClaims
{
    /// <summary>The <c>iss</c> of the local issuer's tokens (under the reserved <c>.invalid</c> domain, which names no real host).</summary>
    public const string Issuer = "https://local-identity.aoai-gateway.invalid/";

    /// <summary>The <c>aud</c> an Azure OpenAI account accepts: Cognitive Services, the resource a policy asks a token for.</summary>
    public const string Audience = "https://cognitiveservices.azure.com";
}
