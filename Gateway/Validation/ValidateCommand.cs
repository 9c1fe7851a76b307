using Gateway.Apim;
using Gateway.Apim.Model;
using Gateway.Policies;

namespace Gateway.Validation;

/// <summary>
/// <c>dotnet run --project Gateway -- validate &lt;policy.xml&gt;... [--named-value name=value]...</c>: loads each file as
/// the gateway would (named values from <c>apim/named-values.json</c>, configuration <c>Apim:NamedValues</c> and the
/// command line), compiles every expression, and prints each problem as <c>file(line,col): error CODE: message</c>,
/// warnings likewise. The exit code is 0 only when no file has an error.
/// </summary>
internal static class ValidateCommand
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

        NamedValues values;
        try
        {
            values = NamedValues.Load(options.ResolvePath(), options.NamedValues);
        }
        catch (ApimArtifactException ex)
        {
            output.WriteLine($"{ex.FilePath}(1,1): error {PolicyDiagnostics.MalformedXml}: {ex.Message}");
            return 1;
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

            try
            {
                using var document = PolicyLoader.Load(File.ReadAllText(path), path, "api", values, options.ResolvePath());
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
}
