using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Gateway.Policies;

namespace Gateway.Expressions;

/// <summary>
/// Compiles policy expressions in a child process (this gateway again, with <see cref="Command"/>), so that the gateway
/// itself never loads Roslyn: the compiler's code, its types and the reference assemblies' symbols would otherwise stay
/// in the gateway's memory for good once the policies are loaded (an assembly cannot be unloaded from the default
/// context, and Roslyn in a collectible one failed under concurrent compiles: docs/performance.md). One child serves
/// every document of a load, one at a time, over its standard input and output, one JSON line each way; it ends when
/// no compile came for <see cref="DefaultIdleTime"/>, and a reload starts another. A child that does not answer within
/// <see cref="DefaultAnswerTime"/>, dies, or answers anything but an answer is stopped and that load fails with an
/// <see cref="InvalidOperationException"/> quoting the end of its standard error; the next load starts a new one.
/// </summary>
internal sealed class CompilerProcess : IDisposable
{
    /// <summary>The gateway's command line argument that makes it a compiler process.</summary>
    public const string Command = "compile-expressions";

    /// <summary>How long the child waits for the next document of a load before it ends, by default.</summary>
    public static readonly TimeSpan DefaultIdleTime = TimeSpan.FromSeconds(10);

    /// <summary>How long one document may take to compile before the child is taken for hung, by default.</summary>
    public static readonly TimeSpan DefaultAnswerTime = TimeSpan.FromMinutes(2);

    /// <summary>How much of the child's standard error an error message quotes.</summary>
    private const int ErrorLines = 20;

    private static readonly Encoding Utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

    private readonly ProcessStartInfo _start;
    private readonly TimeSpan _idleTime;
    private readonly TimeSpan _answerTime;
    private readonly Lock _lock = new();
    private readonly Timer _idle;
    private readonly Queue<string> _errors = new();
    private Process? _process;
    private bool _disposed;

    /// <param name="start">The child's command line (<see cref="Command"/> to the gateway).</param>
    /// <param name="idleTime">How long the child waits for the next document before it ends; <see cref="DefaultIdleTime"/> when null.</param>
    /// <param name="answerTime">How long one document may take; <see cref="DefaultAnswerTime"/> when null.</param>
    public CompilerProcess(ProcessStartInfo start, TimeSpan? idleTime = null, TimeSpan? answerTime = null)
    {
        _start = start;
        _idleTime = idleTime ?? DefaultIdleTime;
        _answerTime = answerTime ?? DefaultAnswerTime;
        _start.RedirectStandardInput = true;
        _start.RedirectStandardOutput = true;
        _start.RedirectStandardError = true;
        _start.StandardInputEncoding = Utf8;
        _start.StandardOutputEncoding = Utf8;
        _start.UseShellExecute = false;

        // The child compiles a few documents and ends: the workstation collector starts faster and holds less. Nothing
        // inherited may pause it at start (a diagnostic port set to suspend) or add code that writes to its output.
        _start.Environment["DOTNET_gcServer"] = "0";
        foreach (var name in new[] { "DOTNET_DiagnosticPorts", "DOTNET_DefaultDiagnosticPortSuspend", "DOTNET_STARTUP_HOOKS" })
        {
            _start.Environment.Remove(name);
        }

        _idle = new Timer(_ => Stop());
    }

    /// <summary>
    /// A compiler process for the gateway running in this process, or null when this process is not the gateway's own
    /// executable (a test host, say), which then compiles in process.
    /// </summary>
    public static CompilerProcess? ForThisGateway()
    {
        var entry = Assembly.GetEntryAssembly();
        if (entry != typeof(CompilerProcess).Assembly || Environment.ProcessPath is not { } host)
        {
            return null;
        }

        var start = new ProcessStartInfo(host);
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(entry.Location);
        }

        start.ArgumentList.Add(Command);
        return new CompilerProcess(start);
    }

    /// <summary>Whether a child is running now (between the first compile of a load and its idle end).</summary>
    public bool IsRunning
    {
        get
        {
            lock (_lock)
            {
                return _process is not null;
            }
        }
    }

    /// <summary>The image of the assembly holding <paramref name="expressions"/>, compiled in the child; problems with the policy throw <see cref="PolicyLoadException"/>.</summary>
    public byte[] Emit(string documentName, IReadOnlyList<PolicyExpression> expressions)
    {
        var request = JsonSerializer.Serialize(new CompileRequest(documentName, [.. expressions.Select(e => new ExpressionSource(e.Index, e.Code, e.IsBlock, e.Kind, e.Location.File, e.Location.Line, e.Location.Column))]), CompilerJson.Default.CompileRequest);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _idle.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            var process = _process ??= StartChild();
            string? line;
            try
            {
                process.StandardInput.WriteLine(request);
                process.StandardInput.Flush();
                var reading = process.StandardOutput.ReadLineAsync();
                if (!reading.Wait(_answerTime))
                {
                    StopChild();
                    throw Failure($"gave no answer within {_answerTime.TotalSeconds:0} s and was stopped");
                }

                line = reading.Result;
            }
            catch (AggregateException ex) when (ex.InnerException is IOException)
            {
                line = null;
            }
            catch (IOException)
            {
                line = null;
            }

            if (line is null)
            {
                StopChild();
                throw Failure("ended without an answer");
            }

            CompileResponse? response;
            try
            {
                response = JsonSerializer.Deserialize(line, CompilerJson.Default.CompileResponse);
            }
            catch (JsonException)
            {
                response = null;
            }

            if (response is null)
            {
                // Something else wrote to its output: the answers that follow could be out of step, so this child goes.
                StopChild();
                throw Failure("answered something that is not an answer");
            }

            _idle.Change(_idleTime, Timeout.InfiniteTimeSpan);
            if (response.Problems is { } problems)
            {
                throw new PolicyLoadException(problems);
            }

            return response.Image ?? throw new InvalidOperationException($"The policy expression compiler ({Command}) failed: {response.Error}");
        }
    }

    /// <summary>The child's side: answers each request line of <paramref name="input"/> with a line on <paramref name="output"/> until the input ends.</summary>
    public static int Serve(Stream input, Stream output)
    {
        using var reader = new StreamReader(input, Utf8);
        using var writer = new StreamWriter(output, Utf8);
        while (reader.ReadLine() is { } line)
        {
            CompileResponse response;
            try
            {
                var request = JsonSerializer.Deserialize(line, CompilerJson.Default.CompileRequest)
                    ?? throw new InvalidOperationException("an empty request");
                var expressions = request.Expressions.Select(e => new PolicyExpression(e.Index, e.Code, e.IsBlock, e.Kind, new SourceLocation(e.File, e.Line, e.Column))).ToList();
                response = new CompileResponse(ExpressionEmitter.Emit(request.Document, expressions), null, null);
            }
            catch (PolicyLoadException ex)
            {
                response = new CompileResponse(null, ex.Problems, null);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                response = new CompileResponse(null, null, ex.ToString());
            }

            writer.WriteLine(JsonSerializer.Serialize(response, CompilerJson.Default.CompileResponse));
            writer.Flush();
        }

        return 0;
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            StopChild();
        }

        _idle.Dispose();
    }

    private Process StartChild()
    {
        lock (_errors)
        {
            _errors.Clear();
        }

        var process = new Process { StartInfo = _start };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } text)
            {
                lock (_errors)
                {
                    _errors.Enqueue(text);
                    if (_errors.Count > ErrorLines)
                    {
                        _errors.Dequeue();
                    }
                }
            }
        };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            process.Dispose();
            throw new InvalidOperationException($"The policy expression compiler ({Command}) could not start: {ex.Message}", ex);
        }

        process.BeginErrorReadLine();
        return process;
    }

    private void Stop()
    {
        lock (_lock)
        {
            StopChild();
        }
    }

    /// <summary>Ends the child: its input closes, so it leaves its loop; one that does not is killed.</summary>
    private void StopChild()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        try
        {
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It has gone already (closing flushes what was left for it into a broken pipe); it is still waited
                // for below, so that what it wrote on its standard error is read to the end before anyone quotes it.
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill(entireProcessTree: true);
            }

            // Once it has exited, the untimed wait also waits for its standard error to be read to the end.
            process.WaitForExit();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
        }
    }

    private InvalidOperationException Failure(string what) =>
        new($"The policy expression compiler ({Command}) {what}:{Environment.NewLine}{ErrorText()}");

    private string ErrorText()
    {
        lock (_errors)
        {
            return _errors.Count == 0 ? "(nothing on its standard error)" : string.Join(Environment.NewLine, _errors);
        }
    }
}

internal sealed record ExpressionSource(int Index, string Code, bool IsBlock, ExpressionKind Kind, string File, int Line, int Column);

internal sealed record CompileRequest(string Document, IReadOnlyList<ExpressionSource> Expressions);

/// <summary>Exactly one of the three: the assembly's image, the policy's problems, or why the compiler failed.</summary>
internal sealed record CompileResponse(byte[]? Image, IReadOnlyList<string>? Problems, string? Error);

[System.Text.Json.Serialization.JsonSerializable(typeof(CompileRequest))]
[System.Text.Json.Serialization.JsonSerializable(typeof(CompileResponse))]
internal sealed partial class CompilerJson : System.Text.Json.Serialization.JsonSerializerContext;
