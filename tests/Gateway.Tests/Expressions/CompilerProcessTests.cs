using System.Diagnostics;
using Gateway.Expressions;
using Gateway.Policies;
using static Gateway.Tests.Support.TestExpressions;

namespace Gateway.Tests.Expressions;

/// <summary>The expression compiler in a child process: the gateway's own build, started with <see cref="CompilerProcess.Command"/>.</summary>
public sealed class CompilerProcessTests : IDisposable
{
    private readonly CompilerProcess _compiler = new(GatewayCommand(), idleTime: TimeSpan.FromSeconds(30));

    public void Dispose() => _compiler.Dispose();

    [Fact]
    public void Compile_InTheChild_BindsDelegatesThatAnswerAsThoseCompiledInProcess()
    {
        var codes = new[] { (Code: "1 + 2", Kind: ExpressionKind.Value), (Code: "\"ab\".ToUpperInvariant() == \"AB\"", Kind: ExpressionKind.Condition), (Code: "var x = new List<int> { 4, 5 }; return x.Sum();", Kind: ExpressionKind.Value) };

        var there = codes.Select((c, i) => Expression(i, c.Code, c.Kind)).ToList();
        var here = codes.Select((c, i) => Expression(i, c.Code, c.Kind)).ToList();
        using var child = ExpressionCompiler.Compile("policy.xml", there, _compiler);
        using var local = ExpressionCompiler.Compile("policy.xml", here, compilerProcess: null);

        Assert.Equal([3, true, 9], there.Select(e => e.Evaluate(null!)));
        Assert.Equal(here.Select(e => e.Evaluate(null!)), there.Select(e => e.Evaluate(null!)));
        Assert.NotNull(child.Assembly);
        Assert.True(_compiler.IsRunning);
    }

    [Fact]
    public void Compile_AnError_ComesBackAsTheProblemAtItsPlaceInThePolicy()
    {
        var ex = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("apis/x/policy.xml", [Expression(0, "context.Nope", ExpressionKind.Value, file: "apis/x/policy.xml", line: 14, column: 51)], _compiler));

        var problem = Assert.Single(ex.Problems);
        Assert.StartsWith("apis/x/policy.xml(14,59): error CS1061: 'IContext' does not contain a definition for 'Nope'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_ATypeOutsideTheAllowedList_IsRefusedInTheChildAsInProcess()
    {
        var code = "System.IO.File.Exists(\"x\")";

        var there = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, code, ExpressionKind.Condition)], _compiler));
        var here = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, code, ExpressionKind.Condition)], compilerProcess: null));

        Assert.NotEmpty(there.Problems);
        Assert.All(there.Problems, p => Assert.Contains("error APIM0005: type 'System.IO.", p, StringComparison.Ordinal));
        Assert.Equal(here.Problems, there.Problems);
    }

    [Fact]
    public async Task Idle_TheChildEnds_AndTheNextCompileStartsAnother()
    {
        using var compiler = new CompilerProcess(GatewayCommand(), idleTime: TimeSpan.FromMilliseconds(200));
        using (ExpressionCompiler.Compile("a.xml", [Expression(0, "1", ExpressionKind.Value)], compiler))
        {
            Assert.True(compiler.IsRunning);
        }

        var waited = Stopwatch.StartNew();
        while (compiler.IsRunning && waited.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(50);
        }

        Assert.False(compiler.IsRunning, "the child still ran 30 s after its last compile");
        var again = Expression(0, "2", ExpressionKind.Value);
        using (ExpressionCompiler.Compile("b.xml", [again], compiler))
        {
            Assert.Equal(2, again.Evaluate(null!));
        }
    }

    [Fact]
    public void Compile_AChildThatDies_FailsWithWhatItWroteOnStandardError()
    {
        // A child gone before its input is closed once lost its last words about one time in fifteen (closing the
        // input failed on the broken pipe, and its standard error was not waited for): many children, every one heard.
        for (var child = 0; child < 100; child++)
        {
            using var compiler = new CompilerProcess(Shell("echo 'compiler crashed here' >&2; exit 3"));

            var ex = Assert.Throws<InvalidOperationException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, "1", ExpressionKind.Value)], compiler));

            Assert.Contains("ended without an answer", ex.Message, StringComparison.Ordinal);
            Assert.Contains("compiler crashed here", ex.Message, StringComparison.Ordinal);
            Assert.False(compiler.IsRunning);
        }
    }

    [Fact]
    public void Compile_AChildThatNeverAnswers_IsStoppedAfterTheAnswerTime()
    {
        using var compiler = new CompilerProcess(Shell("read line; sleep 60"), answerTime: TimeSpan.FromMilliseconds(500));
        var waited = Stopwatch.StartNew();

        var ex = Assert.Throws<InvalidOperationException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, "1", ExpressionKind.Value)], compiler));

        Assert.Contains("gave no answer within", ex.Message, StringComparison.Ordinal);
        Assert.False(compiler.IsRunning);
        Assert.True(waited.Elapsed < TimeSpan.FromSeconds(20), $"took {waited.Elapsed}");
    }

    [Fact]
    public void Compile_AChildThatAnswersSomethingElse_IsStopped_SoNoLaterAnswerIsOutOfStep()
    {
        using var compiler = new CompilerProcess(Shell("read line; echo 'Hello from a startup hook'; sleep 60"));

        var ex = Assert.Throws<InvalidOperationException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, "1", ExpressionKind.Value)], compiler));

        Assert.Contains("answered something that is not an answer", ex.Message, StringComparison.Ordinal);
        Assert.False(compiler.IsRunning);
    }

    [Fact]
    public void Compile_ABlockOverSeveralLinesWithNonAsciiText_MapsItsErrorAsInProcess()
    {
        const string Code = "var greeting = \"Grüße, 東京\";\nreturn greeting.Nope();";
        var there = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, Code, ExpressionKind.Value, line: 7, column: 20)], _compiler));
        var here = Assert.Throws<PolicyLoadException>(() => ExpressionCompiler.Compile("policy.xml", [Expression(0, Code, ExpressionKind.Value, line: 7, column: 20)], compilerProcess: null));

        Assert.StartsWith("policy.xml(8,", Assert.Single(there.Problems), StringComparison.Ordinal);
        Assert.Equal(here.Problems, there.Problems);

        var fine = Expression(0, "var greeting = \"Grüße, 東京\";\nreturn greeting.Length;", ExpressionKind.Value);
        using (ExpressionCompiler.Compile("policy.xml", [fine], _compiler))
        {
            Assert.Equal(9, fine.Evaluate(null!));
        }
    }

    [Fact]
    public void ForThisGateway_UnderATestHost_CompilesInProcess() => Assert.Null(CompilerProcess.ForThisGateway());

    [SkippableFact]
    public async Task TheGatewayRunAsItself_LoadsTheShippedPolicy_WithoutLoadingRoslyn()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "reads /proc/<pid>/maps");
        using var key = System.Security.Cryptography.RSA.Create(2048);
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = AppContext.BaseDirectory };

        // The gateway takes a port of its own (port 0) and names it in its log: a port found free here and released would
        // be free for this test run's other servers too, and one of them could answer the health check in its place.
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "Gateway.dll"), "--urls", "http://127.0.0.1:0", $"--Apim:Path={Path.Combine(Gateway.Tests.Support.TestApim.RepoRoot, "apim")}", "--Apim:WatchForChanges=false" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["Identity__Provider"] = "local";
        start.Environment["LocalIdentity__SigningKey"] = key.ExportPkcs8PrivateKeyPem();
        start.Environment["Gateway__AdminKey"] = "compiler-process-test-admin-key";
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var gateway = new Process { StartInfo = start };
        gateway.OutputDataReceived += (_, line) =>
        {
            const string Prefix = "Now listening on: ";
            if (line.Data?.IndexOf(Prefix, StringComparison.Ordinal) is >= 0 and var at)
            {
                listening.TrySetResult(new Uri(line.Data[(at + Prefix.Length)..].Trim()));
            }
        };
        gateway.Start();
        try
        {
            gateway.BeginOutputReadLine();
            gateway.BeginErrorReadLine();
            await Task.WhenAny(listening.Task, gateway.WaitForExitAsync(), Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(listening.Task.IsCompleted, gateway.HasExited ? $"the gateway exited with {gateway.ExitCode} before it listened" : "the gateway did not listen within 60 s");
            var address = await listening.Task;
            using var http = new HttpClient { BaseAddress = address };
            var waited = Stopwatch.StartNew();
            while (!await HealthyAsync(http))
            {
                Assert.False(gateway.HasExited, $"the gateway exited with {(gateway.HasExited ? gateway.ExitCode : 0)}");
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the gateway did not become healthy within 60 s");
                await Task.Delay(200);
            }

            var roslyn = File.ReadLines($"/proc/{gateway.Id}/maps").Where(l => l.Contains("Microsoft.CodeAnalysis", StringComparison.Ordinal)).ToList();
            Assert.True(roslyn.Count == 0, "the gateway mapped Roslyn: " + string.Join(", ", roslyn.Take(3)));
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
        }
    }

    private static async Task<bool> HealthyAsync(HttpClient http)
    {
        try
        {
            using var response = await http.GetAsync(new Uri("/health", UriKind.Relative));
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    /// <summary>A stand-in for the child: <paramref name="script"/> run by <c>sh</c>.</summary>
    private static ProcessStartInfo Shell(string script)
    {
        var start = new ProcessStartInfo("sh");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        return start;
    }

    /// <summary><c>dotnet Gateway.dll compile-expressions</c>, with the gateway built next to these tests.</summary>
    private static ProcessStartInfo GatewayCommand()
    {
        var start = new ProcessStartInfo("dotnet");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Gateway.dll"));
        start.ArgumentList.Add(CompilerProcess.Command);
        return start;
    }
}
