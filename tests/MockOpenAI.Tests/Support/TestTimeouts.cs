namespace MockOpenAI.Tests.Support;

/// <summary>How long a test waits, in real time, before it fails instead of hanging.</summary>
internal static class TestTimeouts
{
    /// <summary>
    /// For one step of a request: the answer of a mock account or the gateway, its body, a timer being started. Generous,
    /// so a loaded machine does not fail a correct test; a test that waits less says so with a constant of its own.
    /// </summary>
    public static readonly TimeSpan Request = TimeSpan.FromSeconds(30);

    /// <summary>
    /// For something that should happen at once (a cancellation reaching the account), where the alternative is never:
    /// alone it takes milliseconds, but with the whole solution's tests sharing two cores it once took 2 s.
    /// </summary>
    public static readonly TimeSpan AtOnce = TimeSpan.FromSeconds(5);
}
