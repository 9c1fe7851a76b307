using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Policies;

namespace Gateway.Validation;

/// <summary>
/// <c>dotnet run --project Gateway -- validate &lt;policy.xml&gt;... [--named-value name=value]...</c>: loads each file as
/// the gateway would, compiles every expression, and prints each problem as <c>file(line,col): error CODE: message</c>,
/// warnings likewise. A file inside an apim folder (one with <c>apis/</c>, <c>named-values.json</c> or
/// <c>topology.json</c>) takes its named values and fragments from that folder, else from the configured one (<c>Apim:Path</c>);
/// configuration <c>Apim:NamedValues</c> and the command line add to and override them. The exit code is 0 only when
/// no file has an error.
/// </summary>
internal static partial class ValidateCommand
{
    public const string Name = "validate";

    public static int Run(IReadOnlyList<string> args, IConfiguration configuration, TextWriter output)
    {
        var files = new List<string>();
        var namedValues = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--named-value" && i + 1 < args.Count && args[i + 1].IndexOf('=', StringComparison.Ordinal) > 0)
            {
                var pair = args[++i];
                var split = pair.IndexOf('=', StringComparison.Ordinal);
                namedValues[pair[..split]] = pair[(split + 1)..];
            }
            else if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                output.WriteLine($"validate: unknown option '{args[i]}' (usage: validate <policy.xml>... [--named-value name=value]...)");
                return 2;
            }
            else
            {
                files.Add(args[i]);
            }
        }

        if (files.Count == 0)
        {
            output.WriteLine("validate: no policy file given (usage: validate <policy.xml>... [--named-value name=value]...)");
            return 2;
        }

        var options = configuration.GetSection(ApimOptions.SectionName).Get<ApimOptions>() ?? new ApimOptions();
        foreach (var (name, value) in namedValues)
        {
            options.NamedValues[name] = value;
        }

        var errors = 0;
        var warnings = 0;
        foreach (var file in files)
        {
            var path = Path.GetFullPath(file);
            if (!File.Exists(path))
            {
                var hint = Path.IsPathRooted(file) ? string.Empty : $" (relative paths start from {Environment.CurrentDirectory}; `dotnet run --project Gateway` runs there, so pass an absolute path such as $PWD/{file})";
                output.WriteLine($"{path}(1,1): error {PolicyDiagnostics.MalformedXml}: file not found{hint}");
                errors++;
                continue;
            }

            var apimPath = ApimFolderOf(path) ?? options.ResolvePath();
            NamedValues values;
            try
            {
                values = NamedValues.Load(apimPath, options.NamedValues);
            }
            catch (ApimArtifactException ex)
            {
                output.WriteLine($"{ex.FilePath}(1,1): error {PolicyDiagnostics.MalformedXml}: {ex.Message}");
                errors++;
                continue;
            }

            var text = File.ReadAllText(path);
            if (IsFragment(text))
            {
                var problems = FragmentProblems(path, apimPath, values);
                problems.ForEach(output.WriteLine);
                errors += problems.Count;
                continue;
            }

            try
            {
                using var document = PolicyLoader.Load(text, path, ScopeOf(path), values, apimPath);
                foreach (var warning in PolicyWarnings.Of(document))
                {
                    output.WriteLine(warning);
                    warnings++;
                }
            }
            catch (PolicyLoadException ex)
            {
                foreach (var problem in ex.Problems)
                {
                    output.WriteLine(problem);
                    errors++;
                }
            }
        }

        output.WriteLine($"{files.Count} file(s): {errors} error(s), {warnings} warning(s)");
        return errors == 0 ? 0 : 1;
    }

    /// <summary>Whether the root element is <c>&lt;fragment&gt;</c> (read without parsing: raw quotes in expressions are not XML yet).</summary>
    private static bool IsFragment(string text) => RootElement().Match(text) is { Success: true } match && match.Groups["name"].Value == "fragment";

    [System.Text.RegularExpressions.GeneratedRegex(@"\A\s*(<\?xml[^>]*\?>\s*)?(<!--.*?-->\s*)*<(?<name>[\w.-]+)", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex RootElement();

    /// <summary>
    /// A fragment is loaded as a policy that includes it would load it, in each scope and section. It is fine when some
    /// scope and section take it; otherwise the problems every one has (its own mistakes) are reported, or the API
    /// scope's inbound ones.
    /// </summary>
    private static List<string> FragmentProblems(string path, string apimPath, NamedValues values)
    {
        var id = Path.GetFileNameWithoutExtension(path);
        if (!string.Equals(Path.GetFullPath(Path.Combine(apimPath, FragmentSource.Folder, id + ".xml")), path, StringComparison.Ordinal))
        {
            return [$"{path}(1,1): error {PolicyDiagnostics.UnknownElement}: a fragment must be {Path.Combine(apimPath, FragmentSource.Folder)}/<fragment-id>.xml to be included"];
        }

        var attempts = new List<List<string>>();
        foreach (var scope in new[] { PolicyScope.Api, PolicyScope.Global, PolicyScope.Product, PolicyScope.Operation })
        {
            foreach (var section in new[] { "inbound", "backend", "outbound", "on-error" })
            {
                try
                {
                    using var document = PolicyLoader.Load($"""<policies><{section}><include-fragment fragment-id="{id}" /></{section}></policies>""", path, scope, values, apimPath);
                    return [];
                }
                catch (PolicyLoadException ex)
                {
                    attempts.Add([.. ex.Problems]);
                }
            }
        }

        var common = attempts.Skip(1).Aggregate((IEnumerable<string>)attempts[0], (all, next) => all.Intersect(next, StringComparer.Ordinal)).ToList();
        return common.Count > 0 ? common : attempts[0];
    }

    /// <summary>The nearest folder above the file that looks like an apim folder.</summary>
    private static string? ApimFolderOf(string file)
    {
        for (var folder = Path.GetDirectoryName(file); folder is not null; folder = Path.GetDirectoryName(folder))
        {
            if (Directory.Exists(Path.Combine(folder, GatewayArtifacts.ApisFolder))
                || File.Exists(Path.Combine(folder, NamedValues.FileName))
                || File.Exists(Path.Combine(folder, Topology.FileName)))
            {
                return folder;
            }
        }

        return null;
    }

    private static PolicyScope ScopeOf(string file) =>
        Path.GetFileName(file) == PolicyLoader.GlobalPolicyFileName ? PolicyScope.Global
        : Path.GetFileName(Path.GetDirectoryName(file)) == PolicyLoader.OperationsFolder ? PolicyScope.Operation
        : Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(file))) == Apim.Model.ProductDefinition.Folder ? PolicyScope.Product
        : PolicyScope.Api;
}
