using Gateway.Apim.Model;
using Gateway.Backends;
using Gateway.Policies;
using Gateway.Telemetry;
using Microsoft.Extensions.Options;

namespace Gateway.Apim;

/// <summary>
/// The artefacts in force, reloaded when a file under the apim folder changes. A request keeps the version it started
/// with; a broken edit keeps the previous version running and is reported in the log and the health check until a
/// good edit replaces it.
/// </summary>
internal sealed partial class ArtifactsProvider : IDisposable
{
    /// <summary>Edits arrive as bursts of file events; the reload waits this long after the last one.</summary>
    public static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);

    private readonly ApimOptions _options;
    private readonly ILogger<ArtifactsProvider> _logger;
    private readonly FileSystemWatcher? _watcher;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private GatewayArtifacts _current;

    public ArtifactsProvider(IOptions<ApimOptions> options, TimeProvider time, ILogger<ArtifactsProvider> logger)
    {
        _options = options.Value;
        _logger = logger;
        _current = GatewayArtifacts.Load(_options);
        _timer = time.CreateTimer(_ => Reload(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (_options.WatchForChanges)
        {
            _watcher = new FileSystemWatcher(_current.ApimPath) { IncludeSubdirectories = true, NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size };
            _watcher.Changed += (_, _) => Schedule();
            _watcher.Created += (_, _) => Schedule();
            _watcher.Deleted += (_, _) => Schedule();
            _watcher.Renamed += (_, _) => Schedule();
            _watcher.EnableRaisingEvents = true;
        }
    }

    public GatewayArtifacts Current => Volatile.Read(ref _current);

    /// <summary>How many times the artefacts were replaced since start.</summary>
    public int Generation { get; private set; }

    /// <summary>Why the last reload failed; null when the version in force is the latest on disk.</summary>
    public string? ReloadError { get; private set; }

    public BackendRegistry Backends => Current.Backends;

    /// <summary>Loads the files again now; the new version replaces the current one only if it loads cleanly.</summary>
    public void Reload()
    {
        lock (_lock)
        {
            GatewayArtifacts next;
            try
            {
                next = GatewayArtifacts.Load(_options);
            }
            catch (Exception ex) when (ex is PolicyLoadException or ApimArtifactException or IOException or UnauthorizedAccessException)
            {
                ReloadError = ex.Message;
                Log.ReloadFailed(_logger, ex.Message);
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // A bug of the gateway's own (this runs on a timer, where an escaping exception ends the process): the
                // previous version keeps serving and the health check says why.
                ReloadError = $"The gateway failed while loading the edited artefacts ({ex.GetType().Name}: {ex.Message}).";
                Log.ReloadCrashed(_logger, ex);
                return;
            }

            var previous = Interlocked.Exchange(ref _current, next);
            ReloadError = null;
            Generation++;
            Log.Reloaded(_logger, Generation);

            // Requests still running on the previous version keep its compiled expressions alive; unloading the
            // collectible assemblies completes once they are done.
            previous.Dispose();
        }
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _timer.Dispose();
        Current.Dispose();
    }

    private void Schedule() => _timer.Change(Debounce, Timeout.InfiniteTimeSpan);

    private static partial class Log
    {
        [LoggerMessage(LogEvents.ArtifactsReloaded, LogLevel.Information, "Reloaded the API Management artefacts (version {Generation})")]
        public static partial void Reloaded(ILogger logger, int generation);

        [LoggerMessage(LogEvents.ArtifactsReloadFailed, LogLevel.Error, "The edited API Management artefacts do not load; the previous version keeps running:\n{Problems}")]
        public static partial void ReloadFailed(ILogger logger, string problems);

        [LoggerMessage(LogEvents.ArtifactsReloadCrashed, LogLevel.Critical, "Loading the edited API Management artefacts failed in the gateway itself; the previous version keeps running")]
        public static partial void ReloadCrashed(ILogger logger, Exception exception);
    }
}
