namespace MockContentSafety.Tests.Support;

/// <summary>How long a test waits, in real time, before it fails instead of hanging.</summary>
internal static class TestTimeouts
{
    /// <summary>For one request to the mock account, its body included.</summary>
    public static readonly TimeSpan Request = TimeSpan.FromSeconds(30);
}
