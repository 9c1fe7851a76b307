using System.ComponentModel.DataAnnotations;

namespace TrafficGenerator.Tests;

public sealed class TrafficOptionsTests
{
    [Fact]
    public void Validate_GatewayKeysAndDeployments_IsValid()
    {
        Assert.Empty(Errors(Valid()));
    }

    [Fact]
    public void Validate_NoSubscription_IsInvalid()
    {
        var options = Valid();
        options.Subscriptions.Clear();

        Assert.Contains(Errors(options), e => e.Contains("Traffic:Subscriptions", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NoEmbeddingsDeployment_IsValidOnlyWithoutEmbeddingsInTheMix()
    {
        var options = Valid();
        options.EmbeddingsDeployment = string.Empty;

        Assert.Contains(Errors(options), e => e.Contains("Traffic:EmbeddingsDeployment", StringComparison.Ordinal));
        options.Mix.Embeddings = 0;
        Assert.Empty(Errors(options));
    }

    [Fact]
    public void Validate_ZeroRate_IsInvalid()
    {
        var options = Valid();
        options.RequestsPerSecond = 0;

        Assert.Contains(Errors(options), e => e.Contains("RequestsPerSecond", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_EmptyBurstAndNegativeWeight_AreInvalid()
    {
        var options = Valid();
        options.Burst.Length = TimeSpan.Zero;
        options.Mix.Chat = -1;

        var errors = Errors(options);

        Assert.Contains(errors, e => e.Contains("Traffic:Burst", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("Traffic:Mix", StringComparison.Ordinal));
    }

    private static TrafficOptions Valid() => new()
    {
        GatewayUrl = new Uri("http://localhost:5080"),
        Subscriptions = new() { ["chat-app"] = "k1" },
        ChatDeployment = "gpt-4o",
        EmbeddingsDeployment = "text-embedding-3-small",
    };

    private static List<string> Errors(TrafficOptions options)
    {
        var results = new List<ValidationResult>();
        // As ValidateDataAnnotations does: the attributes, then (when they pass) the object's own rules.
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => r.ErrorMessage ?? string.Empty)];
    }
}
