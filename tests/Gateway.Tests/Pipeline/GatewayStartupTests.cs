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
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var argument in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "Gateway.dll"),
            "--urls", "http://127.0.0.1:0",
            "--Apim:Path=" + apim.Path,
            "--LocalIdentity:SigningKey=" + key.ExportPkcs8PrivateKeyPem(),
        })
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

        var printed = await output + await errors;
        Assert.Equal(1, process.ExitCode);
        Assert.True(printed.Contains(Path.Combine(apim.Path, "apis", "azure-openai", expected), StringComparison.Ordinal), printed);
    }
}
