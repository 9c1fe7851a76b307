using System.Reflection;
using System.Runtime.Loader;

namespace Gateway.Expressions;

/// <summary>
/// Roslyn, loaded only while policies load. The compiler (<c>PolicyCompiler.dll</c> and <c>Microsoft.CodeAnalysis*</c>,
/// next to the gateway) runs in a collectible <see cref="AssemblyLoadContext"/>, loaded at the first compile and unloaded
/// once no compile has run for <see cref="IdleDelay"/>: its JIT-compiled code, loader heaps, static caches, references
/// and mapped files (together some 100 MB after the shipped policy's load) are given back, and a hot reload loads it
/// again. Only BCL types cross between the two sides; the compiled expressions live in contexts of their own
/// (<see cref="CompiledExpressions"/>), which reference the gateway, never Roslyn.
/// </summary>
internal sealed partial class CompilerContext
{
    /// <summary>
    /// How long the compiler stays loaded after its last compile: the documents of one load (and tests, which load
    /// policies one after another) share it rather than loading Roslyn again for each.
    /// </summary>
    public static readonly TimeSpan IdleDelay = TimeSpan.FromSeconds(2);

    private const string AssemblyName = "PolicyCompiler";
    private const string EntryType = "Gateway.PolicyCompiler.CSharpCompiler";
    private const string EntryMethod = "Compile";

    private readonly Lock _lock = new();

    // One compile at a time: loads are sequential in the gateway, and Roslyn freshly loaded into a context is then
    // never entered by two threads at once (concurrent compiles in a fresh context failed inside Emit in tests).
    private readonly Lock _compileLock = new();
    private readonly TimeProvider _time;
    private readonly string _directory;
    private Loaded? _loaded;
    private int _compiling;
    private ITimer? _unloadTimer;

    public CompilerContext(TimeProvider time, string directory)
    {
        _time = time;
        _directory = directory;
    }

    /// <summary>The one compiler of the process, found next to the gateway's assembly.</summary>
    public static CompilerContext Shared { get; } = new(TimeProvider.System, Path.GetDirectoryName(typeof(CompilerContext).Assembly.Location)!);

    /// <summary>Whether the compiler is loaded now (for tests).</summary>
    public bool IsLoaded
    {
        get
        {
            lock (_lock)
            {
                return _loaded is not null;
            }
        }
    }

    /// <summary>
    /// Compiles generated source (<c>PolicyCompiler</c>'s <c>CSharpCompiler.Compile</c>): the image, or the errors at
    /// their positions in <paramref name="source"/>.
    /// </summary>
    public (byte[]? Image, (int Position, string Message)[] Errors) Compile(
        string assemblyName, string source, string path, IReadOnlyList<string> referencePaths, Func<int, bool> inExpression)
    {
        CompileFunction compile;
        lock (_lock)
        {
            _unloadTimer?.Dispose();
            _unloadTimer = null;
            _loaded ??= Load();
            compile = _loaded.Compile;

            // Counted once loaded: a load that throws must not leave the count up, or the compiler would never unload.
            _compiling++;
        }

        try
        {
            lock (_compileLock)
            {
                return compile(assemblyName, source, path, referencePaths, inExpression);
            }
        }
        finally
        {
            lock (_lock)
            {
                if (--_compiling == 0)
                {
                    _unloadTimer = _time.CreateTimer(_ => UnloadIfIdle(), null, IdleDelay, Timeout.InfiniteTimeSpan);
                }
            }
        }
    }

    /// <summary>Unloads the compiler now if no compile runs.</summary>
    internal void UnloadIfIdle()
    {
        WeakReference unloaded;
        lock (_lock)
        {
            if (_compiling > 0 || _loaded is null)
            {
                return;
            }

            unloaded = new WeakReference(_loaded.Context);
            _loaded.Context.Unload();
            _loaded = null;
            _unloadTimer?.Dispose();
            _unloadTimer = null;
        }

        Collect(unloaded);
    }

    /// <summary>
    /// Collects the unloaded context (it goes in a few collections: its finalizers run first), then once more,
    /// aggressively, so that the heap the compile grew is decommitted rather than kept as the GC's budget.
    /// </summary>
    private static void Collect(WeakReference context)
    {
        for (var i = 0; i < 10 && context.IsAlive; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    private Loaded Load()
    {
        var context = new CompilerLoadContext(_directory);
        var assembly = context.LoadFromAssemblyPath(Path.Combine(_directory, AssemblyName + ".dll"));
        var method = assembly.GetType(EntryType, throwOnError: true)!.GetMethod(EntryMethod, BindingFlags.Public | BindingFlags.Static)!;
        return new Loaded(context, method.CreateDelegate<CompileFunction>());
    }

    private delegate (byte[]? Image, (int Position, string Message)[] Errors) CompileFunction(
        string assemblyName, string source, string path, IReadOnlyList<string> referencePaths, Func<int, bool> inExpression);

    private sealed record Loaded(AssemblyLoadContext Context, CompileFunction Compile);

    /// <summary>
    /// Loads the compiler and Roslyn from the gateway's folder, whatever the default context knows of them; everything
    /// else (the framework, <c>System.Collections.Immutable</c> and <c>System.Reflection.Metadata</c> among it) comes
    /// from the default context and is shared.
    /// </summary>
    private sealed class CompilerLoadContext(string directory) : AssemblyLoadContext("PolicyCompiler", isCollectible: true)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            var name = assemblyName.Name;
            if (name is null || !(name == AssemblyName || name.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal)))
            {
                return null;
            }

            var path = string.IsNullOrEmpty(assemblyName.CultureName)
                ? Path.Combine(directory, name + ".dll")
                : Path.Combine(directory, assemblyName.CultureName, name + ".dll");
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }
    }
}
