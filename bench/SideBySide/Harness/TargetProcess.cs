using System.Diagnostics;
using System.Text;

namespace Gateway.Bench.SideBySide.Harness;

/// <summary>
/// A process the harness started: its output goes to a log file, and disposing it kills it (and only it). Every one
/// still alive when the harness exits, however it exits, is killed then.
/// </summary>
internal sealed class TargetProcess : IDisposable
{
    private static readonly List<TargetProcess> Started = [];
    private readonly Process _process;
    private readonly StreamWriter _log;
    private bool _closed;

    static TargetProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    private TargetProcess(Process process, string logPath, string gcRuntimeConfig)
    {
        _process = process;
        LogPath = logPath;
        RuntimeConfig = gcRuntimeConfig;
        _log = new StreamWriter(logPath, append: false, new UTF8Encoding(false)) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(e.Data);
        process.ErrorDataReceived += (_, e) => Write(e.Data);
    }

    public int Pid => _process.Id;

    public string LogPath { get; }

    /// <summary>The runtimeconfig.json the process runs with (its GC settings).</summary>
    public string RuntimeConfig { get; }

    public bool HasExited => _process.HasExited;

    public static TargetProcess Start(ProcessStartInfo start, string logPath)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        var dll = start.ArgumentList.First(a => a.EndsWith(".dll", StringComparison.Ordinal));
        var process = new Process { StartInfo = start };
        var target = new TargetProcess(process, logPath, Path.ChangeExtension(dll, ".runtimeconfig.json"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        lock (Started)
        {
            Started.Add(target);
        }

        return target;
    }

    /// <summary>How many lines of the process's output so far contain <paramref name="text"/>.</summary>
    public int CountLines(string text)
    {
        using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var lines = new StreamReader(reader);
        var count = 0;
        while (lines.ReadLine() is { } line)
        {
            count += line.Contains(text, StringComparison.Ordinal) ? 1 : 0;
        }

        return count;
    }

    /// <summary>The last lines of the process's output, for an error message.</summary>
    public string Tail(int lines = 20)
    {
        using var reader = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var text = new StreamReader(reader);
        return string.Join('\n', text.ReadToEnd().Split('\n').TakeLast(lines));
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // It was never started or has gone already.
        }

        lock (_log)
        {
            _closed = true;
            _log.Dispose();
        }

        _process.Dispose();
        lock (Started)
        {
            Started.Remove(this);
        }
    }

    private static void KillAll()
    {
        TargetProcess[] left;
        lock (Started)
        {
            left = [.. Started];
        }

        foreach (var process in left)
        {
            process.Dispose();
        }
    }

    private void Write(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            if (!_closed)
            {
                _log.WriteLine(line);
            }
        }
    }
}
