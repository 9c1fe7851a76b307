using System.Diagnostics;
using System.Security.Cryptography;
using Gateway.Tests.Support;

namespace Gateway.Tests.Pipeline;

/// <summary>The gateway process itself refuses to start on a broken policy and says where the problem is.</summary>
public class GatewayStartupTests
{
    [Theory]
    [InlineData("<planet-limit calls=\"5\" />", "policy.xml(4,6): error APIM0003: unknown policy element <planet-limit>")]
    [InlineData("<set-variable name=\"a\" value=\"@(context.Nope)\" />", "policy.xml(4,45): error CS1061: 'IContext' does not contain a definition for 'Nope'")]
    public async Task Start_BrokenPolicy_ExitsWithFileLineAndReason(string element, string expected)
    {
        using var apim = new TestApim($"""
            <policies>
              <inbound>
                <base />
                {element}
              </inbound>
            </policies>
            """);
        using var key = RSA.Create(2048);

        var (exitCode, printed) = await RunGatewayAsync("--urls", "http://127.0.0.1:0", "--Apim:Path=" + apim.Path, "--LocalIdentity:SigningKey=" + key.ExportPkcs8PrivateKeyPem());

        Assert.Equal(1, exitCode);
        Assert.True(printed.Contains(Path.Combine(apim.Path, "apis", "azure-openai", expected), StringComparison.Ordinal), printed);
    }

    [Fact]
    public async Task Validate_FromTheCommandLine_ChecksTheFileWithoutStartingTheGateway()
    {
        using var apim = new TestApim("<policies><inbound><oops /></inbound></policies>");

        var (exitCode, printed) = await RunGatewayAsync("validate", apim.PolicyPath, Path.Combine(TestApim.RepoApimPath, "apis", "azure-openai", "policy.xml"));

        Assert.Equal(1, exitCode);
        Assert.True(printed.Contains($"{apim.PolicyPath}(1,21): error APIM0003: unknown policy element <oops>", StringComparison.Ordinal), printed);
        Assert.Contains("2 file(s): 1 error(s), 0 warning(s)", printed, StringComparison.Ordinal);
    }

    /// <summary>Runs the built gateway (Gateway.dll beside the tests) and returns its exit code and everything it printed.</summary>
    private static async Task<(int ExitCode, string Printed)> RunGatewayAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await output + await errors);
    }
}
