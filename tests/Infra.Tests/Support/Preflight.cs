using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Text.Json.Nodes;

namespace Infra.Tests.Support;

/// <summary>
/// The preprovision preflight run as azd runs it, with a stand-in <c>az</c> first on PATH
/// (tests/Infra.Tests/Preflight/az) answering from recorded JSON (Preflight/Recorded, in the shape of real answers)
/// that a test may change first. Nothing reaches Azure.
/// </summary>
public sealed class Preflight : IDisposable
{
    public const string Environment = InfraTemplate.EnvironmentName;
    public const string Principal = "11111111-2222-3333-4444-555555555555";
    public const string Today = "2026-12-05";

    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);
    private static readonly string Folder = Path.Combine(InfraTemplate.RepoRoot, "tests", "Infra.Tests", "Preflight");
    private readonly string _root = Directory.CreateTempSubdirectory("preflight-").FullName;

    public Preflight()
    {
        Directory.CreateDirectory(Answers);
        Directory.CreateDirectory(Bin);
        foreach (var file in Directory.GetFiles(Path.Combine(Folder, "Recorded")))
        {
            File.WriteAllText(Path.Combine(Answers, Path.GetFileName(file)), File.ReadAllText(file)
                .Replace("{subscription}", TemplateSnapshot.SubscriptionId, StringComparison.Ordinal)
                .Replace("{tenant}", TemplateSnapshot.TenantId, StringComparison.Ordinal)
                .Replace("{principal}", Principal, StringComparison.Ordinal));
        }

        // The scripts are POSIX shell scripts; the Bicep CLI these tests use is linux-x64 too.
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the preflight tests run the POSIX scripts on Linux");
        }

        var az = Path.Combine(Bin, "az");
        File.Copy(Path.Combine(Folder, "az"), az);
        File.SetUnixFileMode(az, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Where the stand-in reads its answers and logs its calls.</summary>
    public string Answers => Path.Combine(_root, "answers");

    private string Bin => Path.Combine(_root, "bin");

    /// <summary>The azd environment the preflight sees; a test may add or change values (APIM_SKU, AOAI_...).</summary>
    public Dictionary<string, string> Values { get; } = new(StringComparer.Ordinal)
    {
        ["AZURE_ENV_NAME"] = Environment,
        ["AZURE_LOCATION"] = TemplateSnapshot.Location,
        ["AZURE_SUBSCRIPTION_ID"] = TemplateSnapshot.SubscriptionId,
        ["PREFLIGHT_NOW"] = Today,
    };

    /// <summary>A recorded answer, to change before the run.</summary>
    public JsonNode Answer(string file) => JsonNode.Parse(File.ReadAllText(Path.Combine(Answers, file)))!;

    /// <summary>Replaces a recorded answer.</summary>
    public void Record(string file, JsonNode answer) => File.WriteAllText(Path.Combine(Answers, file), answer.ToJsonString());

    /// <summary>Removes a recorded answer: the stand-in then fails that command as az does.</summary>
    public void Forget(string file) => File.Delete(Path.Combine(Answers, file));

    /// <summary>The az command lines the last run made.</summary>
    public IReadOnlyList<string> Calls => File.Exists(Path.Combine(Answers, "calls.log")) ? File.ReadAllLines(Path.Combine(Answers, "calls.log")) : [];

    /// <summary>Runs a script with the values above, the stand-in az first on PATH, and the machine's PATH after it.</summary>
    /// <param name="shell">The program that runs the script (<c>sh</c>).</param>
    /// <param name="script">The script, relative to the repository root.</param>
    public async Task<(int ExitCode, string Output)> RunAsync(string shell, string script)
    {
        var start = new ProcessStartInfo(shell)
        {
            WorkingDirectory = InfraTemplate.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(InfraTemplate.RepoRoot, script));

        // Only what azd would pass: the test's own environment must not leak AOAI_ or APIM_ settings in.
        start.Environment.Clear();
        start.Environment["PATH"] = Bin + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH");
        start.Environment["HOME"] = _root;
        start.Environment["TMPDIR"] = _root;
        start.Environment["AZ_ANSWERS"] = Answers;
        foreach (var (name, value) in Values)
        {
            start.Environment[name] = value;
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
            throw new TimeoutException($"{script} did not finish within {Timeout}");
        }

        return (process.ExitCode, await output + await errors);
    }

    /// <summary>
    /// Runs a PowerShell script in a PowerShell hosted in this process (Microsoft.PowerShell.SDK): no pwsh is needed.
    /// The values above are set in this process's environment for the run, where the script and its az calls read them,
    /// and restored after it; the infra tests that run scripts share one collection, so no two runs overlap.
    /// </summary>
    /// <returns>The script's exit code and what it wrote (Write-Host, then errors).</returns>
    public Task<(int ExitCode, string Output)> RunPowerShellAsync(string script) => Task.Run(() =>
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["PATH"] = Bin + Path.PathSeparator + System.Environment.GetEnvironmentVariable("PATH"),
            ["AZ_ANSWERS"] = Answers,
            ["TMPDIR"] = _root,
        };
        foreach (var name in System.Environment.GetEnvironmentVariables().Keys.Cast<string>().Where(IsSetting))
        {
            settings[name] = null;
        }

        foreach (var (name, value) in Values)
        {
            settings[name] = value;
        }

        var saved = settings.Keys.ToDictionary(n => n, System.Environment.GetEnvironmentVariable, StringComparer.Ordinal);
        try
        {
            foreach (var (name, value) in settings)
            {
                System.Environment.SetEnvironmentVariable(name, value);
            }

            using var powerShell = PowerShell.Create(InitialSessionState.CreateDefault2());
            powerShell.AddScript($"& '{Path.Combine(InfraTemplate.RepoRoot, script).Replace("'", "''", StringComparison.Ordinal)}'; $LASTEXITCODE");
            Collection<PSObject> results;
            string? stopped = null;
            try
            {
                results = powerShell.Invoke();
            }
            catch (RuntimeException exception)
            {
                // A terminating error ends the script as pwsh -File would: exit code 1, the error and where it was.
                results = [];
                stopped = $"ERROR: {exception.Message}{System.Environment.NewLine}{exception.ErrorRecord?.InvocationInfo?.PositionMessage}";
            }

            var output = string.Join('\n', powerShell.Streams.Information.Select(i => i.MessageData?.ToString())
                .Concat(powerShell.Streams.Error.Select(e => "ERROR: " + e))
                .Append(stopped));
            var exitCode = stopped is not null ? 1 : results.LastOrDefault()?.BaseObject is int code ? code : powerShell.HadErrors ? 1 : 0;
            return (exitCode, output);
        }
        finally
        {
            foreach (var (name, value) in saved)
            {
                System.Environment.SetEnvironmentVariable(name, value);
            }
        }
    });

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A variable the hooks read as an azd environment value, which the test process must not pass on.</summary>
    private static bool IsSetting(string name) =>
        name.StartsWith("AOAI_", StringComparison.Ordinal) || name.StartsWith("APIM_", StringComparison.Ordinal)
        || name.StartsWith("AZURE_", StringComparison.Ordinal) || name.StartsWith("PREFLIGHT_", StringComparison.Ordinal);
}
