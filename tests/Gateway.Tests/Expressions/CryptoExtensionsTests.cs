using System.Security.Cryptography;
using System.Text;
using Gateway.Expressions;

namespace Gateway.Tests.Expressions;

public class CryptoExtensionsTests
{
    private static readonly byte[] Key = Convert.FromHexString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
    private static readonly byte[] IV = Convert.FromHexString("0f0e0d0c0b0a09080706050403020100");

    [Theory]
    [InlineData("Aes")]
    [InlineData("aes")]
    [InlineData("Rijndael")]
    public void EncryptByName_IsAesCbcWithPkcs7_AndDecryptReversesIt(string name)
    {
        var plain = Encoding.UTF8.GetBytes("session 42");

        var cipher = plain.Encrypt(name, Key, IV);

        Assert.Equal(Expected(plain), cipher);
        Assert.Equal(plain, cipher.Decrypt(name, Key, IV));
    }

    [Fact]
    public void EncryptWithAnInstance_UsesItsOwnKeyAndIV_OrTheOnesGiven()
    {
        var plain = Encoding.UTF8.GetBytes("session 42");
        using var aes = Aes.Create();
        aes.Key = Key;
        aes.IV = IV;

        Assert.Equal(Expected(plain), plain.Encrypt(aes));
        Assert.Equal(plain, plain.Encrypt(aes).Decrypt(aes));
        using var other = Aes.Create();
        Assert.Equal(Expected(plain), plain.Encrypt(other, Key, IV));
        Assert.Equal(plain, plain.Encrypt(other, Key, IV).Decrypt(other, Key, IV));
    }

    [Fact]
    public void EncryptByName_WithABrokenAlgorithm_IsRefusedByName()
    {
        var error = Assert.Throws<ArgumentException>(() => new byte[] { 1 }.Encrypt("DES", Key, IV));

        Assert.Contains("'DES' is not a symmetric algorithm the gateway emulates (Aes, Rijndael)", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Expected(byte[] plain)
    {
        using var aes = Aes.Create();
        aes.Key = Key;
        return aes.EncryptCbc(plain, IV, PaddingMode.PKCS7);
    }
}
