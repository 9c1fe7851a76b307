using System.ComponentModel.DataAnnotations;

namespace MockOpenAI.Tests;

public class MockOpenAIOptionsTests
{
    [Fact]
    public void Validate_Defaults_PassTheStartupValidation()
    {
        var options = new MockOpenAIOptions();
        var results = new List<ValidationResult>();

        var valid = Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);

        Assert.True(valid, string.Join("; ", results.Select(r => r.ErrorMessage)));
    }

    [Theory]
    [InlineData(0, 30)]
    [InlineData(1000, 0)]
    [InlineData(1000, 366)]
    public void Validate_StoreOutOfRange_Fails(int count, int days)
    {
        var options = new MockOpenAIOptions { StoredResponses = count, StoredResponseLifetime = TimeSpan.FromDays(days) };

        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), [], validateAllProperties: true));
    }
}
