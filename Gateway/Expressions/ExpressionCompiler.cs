using System.Reflection;
using System.Runtime.Loader;

namespace Gateway.Expressions;

/// <summary>
/// Compiles every expression of one policy document into one assembly (<see cref="ExpressionEmitter"/>, in this process
/// or in a <see cref="CompilerProcess"/>), loaded into a collectible context so that reloads do not accumulate memory.
/// Requests only call the compiled delegates.
/// </summary>
internal static class ExpressionCompiler
{
    /// <summary>The namespace and class of the generated code.</summary>
    public const string Namespace = "ApimPolicyExpressions";

    public const string ClassName = "Expressions";

    private static CompilerProcess? _compilerProcess;

    /// <summary>
    /// From now on, compile in <paramref name="compilerProcess"/> rather than in this process, which then never loads
    /// Roslyn (docs/performance.md: about 70 MB kept for the life of the process otherwise).
    /// </summary>
    public static void UseCompilerProcess(CompilerProcess compilerProcess) => Volatile.Write(ref _compilerProcess, compilerProcess);

    public static CompiledExpressions Compile(string documentName, IReadOnlyList<PolicyExpression> expressions) =>
        Compile(documentName, expressions, Volatile.Read(ref _compilerProcess));

    /// <summary>Compiles in <paramref name="compilerProcess"/>, or in this process when it is null.</summary>
    public static CompiledExpressions Compile(string documentName, IReadOnlyList<PolicyExpression> expressions, CompilerProcess? compilerProcess)
    {
        if (expressions.Count == 0)
        {
            return CompiledExpressions.Empty;
        }

        var image = compilerProcess is not null
            ? compilerProcess.Emit(documentName, expressions)
            : EmitHere(documentName, expressions);
        return Load(documentName, image, expressions);
    }

    /// <summary>A method of its own, so that the JIT loads Roslyn only when it is called.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static byte[] EmitHere(string documentName, IReadOnlyList<PolicyExpression> expressions) => ExpressionEmitter.Emit(documentName, expressions);

    private static CompiledExpressions Load(string documentName, byte[] image, IReadOnlyList<PolicyExpression> expressions)
    {
        var loadContext = new AssemblyLoadContext($"{Namespace}.{Path.GetFileName(documentName)}", isCollectible: true);
        using var stream = new MemoryStream(image, writable: false);
        var assembly = loadContext.LoadFromStream(stream);
        var type = assembly.GetType($"{Namespace}.{ClassName}", throwOnError: true)!;
        foreach (var expression in expressions)
        {
            var method = type.GetMethod(expression.MethodName, BindingFlags.Public | BindingFlags.Static)!;
            var delegateType = expression.Kind == ExpressionKind.Condition ? typeof(Func<IContext, bool>) : typeof(Func<IContext, object?>);
            expression.Bind(method.CreateDelegate(delegateType));
        }

        return new CompiledExpressions(loadContext, assembly, [.. expressions]);
    }
}
