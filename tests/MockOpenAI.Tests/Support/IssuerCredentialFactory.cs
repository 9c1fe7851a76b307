using Azure.Core;
using Gateway.Identity;

namespace MockOpenAI.Tests.Support;

/// <summary>
/// Azure credentials that never leave the process: each asks the local issuer for a token for the scope's resource,
/// so a gateway on its Azure identity provider gets tokens the mock accounts accept.
/// </summary>
internal sealed class IssuerCredentialFactory(LocalTokenIssuer issuer) : ITokenCredentialFactory
{
    public TokenCredential Create(string? clientId) => new IssuerCredential(issuer, clientId);

    private sealed class IssuerCredential(LocalTokenIssuer issuer, string? clientId) : TokenCredential
    {
        private const string DefaultSuffix = "/.default";

        public override Azure.Core.AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<Azure.Core.AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var scope = requestContext.Scopes.Single();
            var token = await issuer.GetTokenAsync(scope.EndsWith(DefaultSuffix, StringComparison.Ordinal) ? scope[..^DefaultSuffix.Length] : scope, clientId, cancellationToken);
            return new Azure.Core.AccessToken(token.Token, token.ExpiresOn);
        }
    }
}
