namespace AppHost.Tests;

/// <summary>
/// The app on a copy of apim/ with an example of examples/ copied over it, as the README runs the examples; a derived
/// fixture may change the copy further in its constructor. The copy is deleted with the app.
/// </summary>
public abstract class OverlayAppFixture : LoadBalancedAppFixture
{
    /// <param name="example">The folder under examples/.</param>
    protected OverlayAppFixture(string example)
    {
        CopyFolder(ApimPath, ApimCopy);
        CopyFolder(Path.Combine(RepoRoot, "examples", example), ApimCopy);
    }

    /// <summary>The copy of apim/ the app runs.</summary>
    protected string ApimCopy { get; } = Directory.CreateTempSubdirectory("apim-example-").FullName;

    protected override string ApimPathUnderTest => ApimCopy;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(ApimCopy, recursive: true);
    }
}
