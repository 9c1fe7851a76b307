using Gateway.Policies.Elements;

namespace Gateway.Policies;

/// <summary>
/// Production mistakes API Management accepts without a word, found in a loaded document:
/// <list type="bullet">
/// <item>APIM1001: a backend section that never reaches a <c>forward-request</c> (nor <c>&lt;base /&gt;</c>), so the
/// request is never forwarded (the article this project started from has exactly this policy);</item>
/// <item>APIM1002: a <c>forward-request</c> that buffers the response (the default), which holds streamed completions
/// back until they are complete;</item>
/// <item>APIM1003: a <c>forward-request</c> inside <c>retry</c> without <c>buffer-request-body="true"</c>, so retries
/// send an empty body.</item>
/// <item>APIM1004: a variable set from a literal (so it holds a string) that an expression reads as a number or a
/// boolean, which throws at run time (a classic bug of public samples: <c>value="1"</c>, then <c>(int)context.Variables["x"]</c>).</item>
/// </list>
/// </summary>
internal static class PolicyWarnings
{
    public const string NeverForwarded = "APIM1001";
    public const string BufferedResponse = "APIM1002";
    public const string UnbufferedRetryBody = "APIM1003";
    public const string LiteralReadAsNumber = "APIM1004";

    private static readonly System.Text.RegularExpressions.Regex CastOfVariable = new(
        @"\(\s*(?<type>int|Int32|System\.Int32|long|Int64|bool|Boolean|double|Double|decimal|Decimal)\s*\)\s*context\.Variables\s*\[\s*""(?<name>[^""]+)""\s*\]"
        + @"|GetValueOrDefault\s*<\s*(?<type>int|Int32|long|Int64|bool|Boolean|double|Double|decimal|Decimal)\s*>\s*\(\s*""(?<name>[^""]+)""",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    public static IReadOnlyList<string> Of(PolicyDocument document)
    {
        var warnings = new List<string>();
        if (document[PolicySection.Backend] is { } backend)
        {
            if (!Reaches(backend, e => e is ForwardRequestPolicy) && !backend.Any(e => e is BasePolicy))
            {
                var location = document.SectionLocations.GetValueOrDefault(PolicySection.Backend, new Expressions.SourceLocation(document.Source, 1, 1));
                warnings.Add($"{location}: warning {NeverForwarded}: the backend section never reaches a forward-request (nor <base />), so API Management never forwards the request: outbound runs right after inbound");
            }
        }

        var literals = new Dictionary<string, SetVariablePolicy>(StringComparer.Ordinal);
        foreach (var section in Enum.GetValues<PolicySection>())
        {
            if (document[section] is { } elements)
            {
                Walk(elements, inRetry: false, warnings);
                CollectLiterals(elements, literals);
            }
        }

        foreach (var expression in document.Expressions.Sources)
        {
            foreach (System.Text.RegularExpressions.Match match in CastOfVariable.Matches(expression.Code))
            {
                if (literals.TryGetValue(match.Groups["name"].Value, out var literal))
                {
                    warnings.Add($"{expression.Location}: warning {LiteralReadAsNumber}: variable '{literal.VariableName}' is set from a literal at {literal.Info.Location}, so it holds a string; reading it as {match.Groups["type"].Value} throws at run time (set it with an expression such as @(1), or parse the string)");
                }
            }
        }

        return warnings;
    }

    private static void CollectLiterals(IReadOnlyList<PolicyElement> elements, Dictionary<string, SetVariablePolicy> literals)
    {
        foreach (var element in elements)
        {
            if (element is SetVariablePolicy { IsLiteral: true } variable)
            {
                literals.TryAdd(variable.VariableName, variable);
            }

            foreach (var nested in element.Nested)
            {
                CollectLiterals(nested, literals);
            }
        }
    }

    private static void Walk(IReadOnlyList<PolicyElement> elements, bool inRetry, List<string> warnings)
    {
        foreach (var element in elements)
        {
            if (element is ForwardRequestPolicy forward)
            {
                if (forward.Options.BufferResponse)
                {
                    warnings.Add($"{forward.Info.Location}: warning {BufferedResponse}: forward-request buffers the response (buffer-response defaults to true), so streamed completions reach the client only once complete; set buffer-response=\"false\"");
                }

                if (inRetry && !forward.Options.BufferRequestBody)
                {
                    warnings.Add($"{forward.Info.Location}: warning {UnbufferedRetryBody}: forward-request inside retry without buffer-request-body=\"true\" sends an empty body on every retry");
                }
            }

            foreach (var nested in element.Nested)
            {
                Walk(nested, inRetry || element is RetryPolicy, warnings);
            }
        }
    }

    private static bool Reaches(IReadOnlyList<PolicyElement> elements, Func<PolicyElement, bool> match) =>
        elements.Any(element => match(element) || element.Nested.Any(nested => Reaches(nested, match)));
}
