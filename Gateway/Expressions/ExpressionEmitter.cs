using System.Text;
using Gateway.Policies;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Gateway.Expressions;

/// <summary>
/// The Roslyn half of <see cref="ExpressionCompiler"/>: compiles every expression of one policy document in one
/// compilation and returns the assembly's image, or the problems with their places in the policy file. Only this class
/// (with <see cref="AllowedTypes"/> and <see cref="SharedRandom"/>) touches Roslyn, so a process that never calls it never
/// loads the compiler.
/// </summary>
internal static class ExpressionEmitter
{
    /// <summary>API Management documents its expressions as C# 7.</summary>
    public const LanguageVersion Language = LanguageVersion.CSharp7_3;

    private const string Namespace = ExpressionCompiler.Namespace;
    private const string ClassName = ExpressionCompiler.ClassName;

    private static readonly string[] Usings =
    [
        "System", "System.Collections.Generic", "System.Linq", "System.Text", "System.Text.RegularExpressions",
        "System.Xml.Linq", "Newtonsoft.Json", "Newtonsoft.Json.Linq", "Gateway.Expressions",
    ];

    // The compiler's references (every System.* assembly, read into memory, and the symbols Roslyn builds from them)
    // weigh well over 100 MB and are needed only while policies load: held weakly, they are shared by the documents of
    // one load and given back once it is over; a reload reads them again.
    private static readonly WeakReference<MetadataReference[]?> CachedReferences = new(null);
    private static readonly Lock ReferencesLock = new();

    /// <summary>The image of the assembly holding <paramref name="expressions"/>, or a <see cref="PolicyLoadException"/>.</summary>
    public static byte[] Emit(string documentName, IReadOnlyList<PolicyExpression> expressions)
    {
        var (source, spans) = Generate(expressions);
        var assemblyName = $"{Namespace}.{SanitizeName(documentName)}.{Guid.NewGuid():N}";
        var compilation = CSharpCompilation.Create(
            assemblyName,
            [CSharpSyntaxTree.ParseText(source, new CSharpParseOptions(Language), path: documentName, encoding: Encoding.UTF8)],
            References(),
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Release, nullableContextOptions: NullableContextOptions.Disable));

        var tree = compilation.SyntaxTrees[0];
        var model = compilation.GetSemanticModel(tree);

        // The rewritten tree is emitted first; should it not emit (the expressions have an error, or the rewrite does
        // not fit where it was made), the original is, so that errors have their places in the policy file and a
        // policy that compiles as written always loads.
        var rewritten = SharedRandom.Apply(compilation, model);
        using var image = new MemoryStream();
        var result = rewritten.Emit(image);
        if (!result.Success && !ReferenceEquals(rewritten, compilation))
        {
            image.SetLength(0);
            result = compilation.Emit(image);
        }

        if (!result.Success)
        {
            var problems = result.Diagnostics
                .Where(d => d.Severity == DiagnosticSeverity.Error)
                .Select(d => $"{Map(d.Location, spans)}: error {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}")
                .Distinct()
                .ToList();
            throw new PolicyLoadException(problems);
        }

        var violations = AllowedTypes.Violations(model, tree.GetRoot(), position => spans.Any(s => position >= s.CodeStart && position < s.CodeStart + s.Expression.Code.Length))
            .Select(v => $"{Map(v.Location, spans)}: error {AllowedTypes.DiagnosticId}: type '{v.TypeName}' is not allowed in policy expressions (API Management's allowed-types list)")
            .Distinct()
            .ToList();
        if (violations.Count > 0)
        {
            throw new PolicyLoadException(violations);
        }

        return image.ToArray();
    }

    private static (string Source, List<GeneratedSpan> Spans) Generate(IReadOnlyList<PolicyExpression> expressions)
    {
        var source = new StringBuilder();
        foreach (var name in Usings)
        {
            source.Append("using ").Append(name).Append(";\n");
        }

        source.Append("namespace ").Append(Namespace).Append("\n{\npublic static class ").Append(ClassName).Append("\n{\n");
        var spans = new List<GeneratedSpan>(expressions.Count);
        foreach (var expression in expressions)
        {
            var methodStart = source.Length;
            var returnType = expression.Kind == ExpressionKind.Condition ? "bool" : "object";
            source.Append("public static ").Append(returnType).Append(' ').Append(expression.MethodName).Append("(IContext context)\n");
            source.Append(expression.IsBlock ? "{" : "{ return (" + returnType + ")(");
            spans.Add(new GeneratedSpan(methodStart, source.Length, expression));
            source.Append(expression.Code);
            source.Append(expression.IsBlock ? "\n}\n" : "\n); }\n");
        }

        source.Append("}\n}\n");
        return (source.ToString(), spans);
    }

    /// <summary>
    /// Maps a diagnostic in the generated source back to the policy file: into the expression's code when it points
    /// there, to the expression's start when it points at the generated method around it (a missing return, say).
    /// </summary>
    private static SourceLocation Map(Location location, List<GeneratedSpan> spans)
    {
        var position = location.SourceSpan.Start;
        var owner = spans.LastOrDefault(s => s.MethodStart <= position) ?? spans[0];
        var expression = owner.Expression;
        var offset = Math.Clamp(position - owner.CodeStart, 0, expression.Code.Length);
        var before = expression.Code.AsSpan(0, offset);
        var newlines = before.Count('\n');
        var start = expression.Location;
        return newlines == 0
            ? start with { Column = start.Column + offset }
            : start with { Line = start.Line + newlines, Column = offset - before.LastIndexOf('\n') };
    }

    /// <summary>Where an expression's method and its code start in the generated source.</summary>
    private sealed record GeneratedSpan(int MethodStart, int CodeStart, PolicyExpression Expression);

    private static string SanitizeName(string documentName)
    {
        var name = Path.GetFileNameWithoutExtension(documentName);
        return new string(name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
    }

    private static MetadataReference[] References()
    {
        lock (ReferencesLock)
        {
            if (!CachedReferences.TryGetTarget(out var references) || references is null)
            {
                references = LoadReferences();
                CachedReferences.SetTarget(references);
            }

            return references;
        }
    }

    private static MetadataReference[] LoadReferences()
    {
        var platform = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Where(path =>
            {
                var file = Path.GetFileName(path);
                return file.StartsWith("System.", StringComparison.Ordinal)
                    || file is "netstandard.dll" or "mscorlib.dll" or "Newtonsoft.Json.dll";
            });
        return [.. platform
            .Append(typeof(IContext).Assembly.Location)
            .Distinct(StringComparer.Ordinal)
            .Select(path => MetadataReference.CreateFromFile(path))];
    }
}
