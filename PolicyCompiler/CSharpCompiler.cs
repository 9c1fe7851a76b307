using System.Globalization;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Gateway.PolicyCompiler;

/// <summary>
/// Compiles one policy document's generated source into an assembly image. The gateway calls <see cref="Compile"/>
/// through a delegate across assembly load contexts, so its parameters and result are BCL types only.
/// </summary>
public static class CSharpCompiler
{
    /// <summary>API Management documents its expressions as C# 7.</summary>
    private const LanguageVersion Language = LanguageVersion.CSharp7_3;

    // The references (every System.* assembly read into memory, and the symbols Roslyn builds from them) are shared by
    // the documents of one load; they live as long as this assembly's load context, which the gateway unloads after it.
    private static readonly Lock ReferencesLock = new();
    private static MetadataReference[]? _references;

    /// <summary>
    /// Compiles <paramref name="source"/> and checks it against API Management's allowed types.
    /// </summary>
    /// <param name="assemblyName">The emitted assembly's name.</param>
    /// <param name="source">The generated C#.</param>
    /// <param name="path">The policy file, for the syntax tree.</param>
    /// <param name="referencePaths">The assemblies the expressions may use; the same for every call while this assembly is loaded.</param>
    /// <param name="inExpression">Whether a position of <paramref name="source"/> lies in an expression's own code (the allowed-types check looks there only).</param>
    /// <returns>
    /// The image when it compiled and every type is allowed; otherwise no image and the errors, each at its position in
    /// <paramref name="source"/> with its text (<c>error CS0103: ...</c>): the compiler's errors if any, else the
    /// allowed-types violations.
    /// </returns>
    public static (byte[]? Image, (int Position, string Message)[] Errors) Compile(
        string assemblyName, string source, string path, IReadOnlyList<string> referencePaths, Func<int, bool> inExpression)
    {
        ArgumentNullException.ThrowIfNull(inExpression);
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(Language), path: path, encoding: Encoding.UTF8)],
            References(referencePaths),
            // One thread: a policy document is small, and no work of Roslyn's may outlive the call, since the gateway
            // unloads this assembly once no call runs.
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Disable, concurrentBuild: false));

        using var image = new MemoryStream();
        var result = compilation.Emit(image);
        if (!result.Success)
        {
            return (null, [.. result.Diagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => (d.Location.SourceSpan.Start, $"error {d.Id}: {d.GetMessage(CultureInfo.InvariantCulture)}"))]);
        }

        var tree = compilation.SyntaxTrees[0];
        var violations = AllowedTypes.Violations(compilation.GetSemanticModel(tree), tree.GetRoot(), inExpression)
            .Select(v => (v.Location.SourceSpan.Start, $"error {AllowedTypes.DiagnosticId}: type '{v.TypeName}' is not allowed in policy expressions (API Management's allowed-types list)"))
            .ToArray();
        return violations.Length > 0 ? (null, violations) : (image.ToArray(), []);
    }

    private static MetadataReference[] References(IReadOnlyList<string> paths)
    {
        lock (ReferencesLock)
        {
            return _references ??= [.. paths.Select(path => MetadataReference.CreateFromFile(path))];
        }
    }
}
