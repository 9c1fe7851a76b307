using System.Reflection;
using System.Runtime.Loader;

namespace Gateway.Expressions;

/// <summary>The assembly holding one policy document's expressions; disposing unloads it.</summary>
internal sealed class CompiledExpressions : IDisposable
{
    public static readonly CompiledExpressions Empty = new(null, null, []);

    private readonly AssemblyLoadContext? _loadContext;

    public CompiledExpressions(AssemblyLoadContext? loadContext, Assembly? assembly, IReadOnlyList<PolicyExpression> sources)
    {
        _loadContext = loadContext;
        Assembly = assembly;
        Sources = sources;
    }

    /// <summary>The expressions, as written, with their places in the files.</summary>
    public IReadOnlyList<PolicyExpression> Sources { get; }

    /// <summary>The emitted assembly; null when the document has no expressions.</summary>
    public Assembly? Assembly { get; }

    public int Count => Sources.Count;

    public void Dispose() => _loadContext?.Unload();
}
