using System.Diagnostics;
using System.Reflection;

namespace Infra.Tests.Support;

/// <summary>The Bicep CLI of the NuGet package Azure.Bicep.CommandLine.linux-x64 (downloaded by the restore).</summary>
public static class BicepCli
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>The executable, from the package folder the build recorded.</summary>
    public static string Path { get; } = typeof(BicepCli).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BicepCli").Value!;

    /// <summary>Runs the CLI and returns its exit code and what it printed (diagnostics go to standard error).</summary>
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string workingDirectory, params string[] arguments)
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(Path))
        {
            throw new InvalidOperationException($"The Bicep CLI is not at {Path}: the tests need linux-x64 and a restore of tests/Infra.Tests.");
        }

        var start = new ProcessStartInfo(Path)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        using var cancellation = new CancellationTokenSource(Timeout);
        var output = process.StandardOutput.ReadToEndAsync(cancellation.Token);
        var errors = process.StandardError.ReadToEndAsync(cancellation.Token);
        try
        {
            await process.WaitForExitAsync(cancellation.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"bicep {string.Join(' ', arguments)} did not finish within {Timeout}");
        }

        return (process.ExitCode, await output, await errors);
    }
}
