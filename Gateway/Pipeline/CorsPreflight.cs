using Gateway.Policies;
using Gateway.Policies.Elements;

namespace Gateway.Pipeline;

/// <summary>
/// A CORS preflight as API Management answers it: only the <c>cors</c> policies run ("Only the cors policy is evaluated
/// on the OPTIONS request during preflight"), those that are direct children of the operation's inbound, outermost scope
/// first through <c>&lt;base /&gt;</c> (fragments included in place). The first that allows the origin, the requested
/// method and headers answers 200 with the Access-Control headers; one that does not either ends the preflight with an
/// empty 200 (<c>terminate-unmatched-request</c>, default true) or hands over to the next; none left: an empty 200.
/// </summary>
internal static class CorsPreflight
{
    /// <summary>An <c>OPTIONS</c> request carrying <c>Origin</c> and <c>Access-Control-Request-Method</c>.</summary>
    public static bool IsPreflight(HttpRequest request, out string requestedMethod)
    {
        requestedMethod = request.Headers[CorsHeaders.RequestMethod].ToString().Trim();
        return HttpMethods.IsOptions(request.Method) && !string.IsNullOrWhiteSpace(request.Headers.Origin.ToString()) && requestedMethod.Length > 0;
    }

    /// <summary>A 200 with no body and no CORS headers: API Management's answer to an unmatched cross-origin request.</summary>
    public static ResponseState EmptyOk()
    {
        var response = ResponseState.Empty();
        response.Body = Array.Empty<byte>();
        return response;
    }

    /// <summary>The cors policies a preflight of this chain evaluates, in the order of the effective inbound.</summary>
    public static IReadOnlyList<CorsPolicy> PoliciesOf(PolicyChain chain)
    {
        var found = new List<CorsPolicy>();
        CollectScope(chain, chain.Scopes.Count - 1, found);
        return found;
    }

    /// <summary>The preflight's answer; a policy expression that fails throws, as it would in inbound.</summary>
    public static ResponseState Answer(RequestContext context, IReadOnlyList<CorsPolicy> policies)
    {
        var origin = context.RequestHeaders[CorsHeaders.Origin][0];
        var method = string.Join(",", context.RequestHeaders[CorsHeaders.RequestMethod]).Trim();
        IReadOnlyList<string> headers = context.RequestHeaders.TryGetValue(CorsHeaders.RequestHeaders, out var requested)
            ? [.. requested.SelectMany(v => v.Split(',')).Select(h => h.Trim()).Where(h => h.Length > 0)]
            : [];
        foreach (var policy in policies)
        {
            if (policy.AnswerPreflight(context, origin, method, headers, out var terminate) is { } answer)
            {
                return answer;
            }

            if (terminate)
            {
                break;
            }
        }

        return EmptyOk();
    }

    private static void CollectScope(PolicyChain chain, int scope, List<CorsPolicy> found)
    {
        // A scope without an inbound section inherits the enclosing one, as if it held only <base />.
        if (chain.Scopes[scope][PolicySection.Inbound] is { } elements)
        {
            Collect(chain, scope, elements, found);
        }
        else if (scope > 0)
        {
            CollectScope(chain, scope - 1, found);
        }
    }

    private static void Collect(PolicyChain chain, int scope, IReadOnlyList<PolicyElement> elements, List<CorsPolicy> found)
    {
        foreach (var element in elements)
        {
            switch (element)
            {
                case CorsPolicy cors:
                    found.Add(cors);
                    break;
                case BasePolicy when scope > 0:
                    CollectScope(chain, scope - 1, found);
                    break;
                case IncludeFragmentPolicy fragment:
                    foreach (var nested in fragment.Nested)
                    {
                        Collect(chain, scope, nested, found);
                    }

                    break;
            }
        }
    }
}
