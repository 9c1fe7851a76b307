using System.Text;
using Gateway.Expressions;

namespace Gateway.Tests.Expressions;

public class BasicAuthExtensionsTests
{
    [Theory]
    [InlineData("Basic ", "alice:secret", "alice", "secret")]
    [InlineData("basic ", "alice:secret", "alice", "secret")]
    [InlineData("BASIC   ", "alice:", "alice", "")]
    [InlineData("Basic ", ":only-password", "", "only-password")]
    [InlineData("Basic ", "bob:pa:ss", "bob", "pa:ss")]
    [InlineData("Basic ", "jürgen:pässword", "jürgen", "pässword")]
    public void AsBasic_ValidValue_SplitsAtTheFirstColon(string scheme, string credentials, string userId, string password)
    {
        var value = scheme + Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials));

        var result = value.AsBasic();

        Assert.NotNull(result);
        Assert.Equal(userId, result.UserId);
        Assert.Equal(password, result.Password);
        Assert.True(value.TryParseBasic(out var parsed));
        Assert.Equal(userId, parsed.UserId);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Basic")]
    [InlineData("Basic ")]
    [InlineData("Bearer YWxpY2U6c2VjcmV0")]
    [InlineData("BasicYWxpY2U6c2VjcmV0")]
    [InlineData("Basic not-base64!")]
    [InlineData("Basic YWxpY2U=")] // "alice": no colon
    [InlineData("Basic //79")] // not UTF-8
    public void AsBasic_InvalidValue_IsNullAndTryParseIsFalse(string? value)
    {
        Assert.Null(value!.AsBasic());
        Assert.False(value!.TryParseBasic(out var parsed));
        Assert.Null(parsed);
    }
}
