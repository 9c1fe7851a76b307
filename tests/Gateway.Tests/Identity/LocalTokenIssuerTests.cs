using System.Security.Cryptography;
using Gateway.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Tests.Identity;

public sealed class LocalTokenIssuerTests
{
    [Fact]
    public async Task GetTokenAsync_AfterAnIssuerWithTheSameKeyWasDisposed_StillSigns()
    {
        // Two gateways in one process (tests, a restarted host) with one key: the second must not reach the first's
        // disposed RSA through a signature provider cached process-wide under the key's id.
        using var rsa = RSA.Create(2048);
        var options = Options.Create(new LocalIdentityOptions { SigningKey = rsa.ExportPkcs8PrivateKeyPem() });
        using (var firstKey = new LocalSigningKey(options))
        {
            await new LocalTokenIssuer(firstKey, options, TimeProvider.System).GetTokenAsync("https://cognitiveservices.azure.com", null, CancellationToken.None);
        }

        using var secondKey = new LocalSigningKey(options);
        var token = await new LocalTokenIssuer(secondKey, options, TimeProvider.System).GetTokenAsync("https://cognitiveservices.azure.com", null, CancellationToken.None);

        Assert.Equal("https://cognitiveservices.azure.com", new JsonWebToken(token.Token).Audiences.Single());
    }
}
