using System.Reflection;
using System.Runtime.Loader;

namespace Gateway.Expressions;

/// <summary>The assembly holding one policy document's expressions; disposing unloads it.</summary>
internal sealed class CompiledExpressions : IDisposable
{
    public static readonly CompiledExpressions Empty = new(null, null, 0);

    private readonly AssemblyLoadContext? _loadContext;

    public CompiledExpressions(AssemblyLoadContext? loadContext, Assembly? assembly, int count)
    {
        _loadContext = loadContext;
        Assembly = assembly;
        Count = count;
    }

    /// <summary>The emitted assembly; null when the document has no expressions.</summary>
    public Assembly? Assembly { get; }

    public int Count { get; }

    public void Dispose() => _loadContext?.Unload();
}
