using System.ComponentModel.DataAnnotations;

namespace MockContentSafety;

/// <summary>One mock Azure AI Content Safety account (section <c>MockContentSafety</c>).</summary>
internal sealed class MockContentSafetyOptions : MockHosting.IMockServerOptions
{
    public const string SectionName = "MockContentSafety";

    /// <summary>The account's name, for logs.</summary>
    public string Account { get; set; } = "local";

    /// <summary>
    /// Keys accepted in <c>Ocp-Apim-Subscription-Key</c> (compared in constant time). None by default: like an account
    /// with local auth disabled, only the gateway's managed-identity tokens are accepted.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>The user name of WireMock's admin API (<c>/__admin</c>: mappings, the request journal), with <see cref="AdminPassword"/>.</summary>
    [Required]
    public string AdminUsername { get; set; } = "admin";

    /// <summary>The password of WireMock's admin API (HTTP Basic). Without one the admin API is off.</summary>
    public string? AdminPassword { get; set; }

    /// <summary>How many requests the journal keeps (oldest dropped first).</summary>
    [Range(1, 1_000_000)]
    public int JournalSize { get; set; } = 200;
}
