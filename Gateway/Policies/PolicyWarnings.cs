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
/// </list>
/// </summary>
internal static class PolicyWarnings
{
    public const string NeverForwarded = "APIM1001";
    public const string BufferedResponse = "APIM1002";
    public const string UnbufferedRetryBody = "APIM1003";

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

        foreach (var section in Enum.GetValues<PolicySection>())
        {
            if (document[section] is { } elements)
            {
                Walk(elements, inRetry: false, warnings);
            }
        }

        return warnings;
    }

    private static void Walk(IReadOnlyList<PolicyElement> elements, bool inRetry, List<string> warnings)
    {
        foreach (var element in elements)
        {
            switch (element)
            {
                case ForwardRequestPolicy forward:
                    if (forward.Options.BufferResponse)
                    {
                        warnings.Add($"{forward.Info.Location}: warning {BufferedResponse}: forward-request buffers the response (buffer-response defaults to true), so streamed completions reach the client only once complete; set buffer-response=\"false\"");
                    }

                    if (inRetry && !forward.Options.BufferRequestBody)
                    {
                        warnings.Add($"{forward.Info.Location}: warning {UnbufferedRetryBody}: forward-request inside retry without buffer-request-body=\"true\" sends an empty body on every retry");
                    }

                    break;
                case RetryPolicy retry:
                    Walk(retry.Children, inRetry: true, warnings);
                    break;
                case IncludeFragmentPolicy fragment:
                    Walk(fragment.Elements, inRetry, warnings);
                    break;
                case ChoosePolicy choose:
                    foreach (var branch in choose.Branches)
                    {
                        Walk(branch, inRetry, warnings);
                    }

                    break;
            }
        }
    }

    private static bool Reaches(IReadOnlyList<PolicyElement> elements, Func<PolicyElement, bool> match) => elements.Any(element => match(element) || element switch
    {
        RetryPolicy retry => Reaches(retry.Children, match),
        IncludeFragmentPolicy fragment => Reaches(fragment.Elements, match),
        ChoosePolicy choose => choose.Branches.Any(branch => Reaches(branch, match)),
        _ => false,
    });
}
