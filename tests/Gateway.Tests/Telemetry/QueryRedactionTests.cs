using Gateway.Telemetry;

namespace Gateway.Tests.Telemetry;

public class QueryRedactionTests
{
    [Theory]
    [InlineData("?api-version=2024-10-21&api-key=secret", "?api-version=2024-10-21&api-key=[redacted]")]
    [InlineData("?subscription-key=secret", "?subscription-key=[redacted]")]
    [InlineData("https://gw/openai/x?API-VERSION=v1&code=secret#frag", "https://gw/openai/x?API-VERSION=v1&code=[redacted]#frag")]
    [InlineData("http://gw/x?api%2Dkey=secret&api%2Dversion=v1", "http://gw/x?api%2Dkey=[redacted]&api%2Dversion=v1")]
    [InlineData("?flag&empty=&=secret", "?flag&empty=&=[redacted]")]
    public void Redact_AQueryOrAUrlWithOne_KeepsNamesAndApiVersion_RedactsOtherValues(string text, string expected)
    {
        Assert.Equal(expected, QueryRedaction.Redact(text));
    }

    [Theory]
    [InlineData("?api-version=2024-10-21")]
    [InlineData("https://gw/openai/x")]
    [InlineData("/openai/x?api-key=not-a-url-so-not-a-query")]
    [InlineData("What is a key=value pair?")]
    [InlineData("")]
    public void Redact_NothingToRedact_ReturnsTheSameString(string text)
    {
        Assert.Same(text, QueryRedaction.Redact(text));
    }
}
