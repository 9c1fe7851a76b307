using System.Diagnostics.CodeAnalysis;
using Gateway.Policies.Elements;

namespace Gateway.Policies;

/// <summary>Every supported policy element, the sections it may appear in (as API Management documents them) and its parser.</summary>
internal static class PolicyElements
{
    private static readonly PolicySection[] Anywhere = [PolicySection.Inbound, PolicySection.Backend, PolicySection.Outbound, PolicySection.OnError];
    private static readonly PolicySection[] RequestSections = [PolicySection.Inbound, PolicySection.Backend];

    private static readonly Dictionary<string, ElementDefinition> Definitions = new(StringComparer.Ordinal)
    {
        ["authentication-managed-identity"] = new(AuthenticationManagedIdentityPolicy.Parse, [PolicySection.Inbound]),
        ["base"] = new(BasePolicy.Parse, Anywhere),
        ["cache-lookup-value"] = new(CacheLookupValuePolicy.Parse, Anywhere),
        ["cache-remove-value"] = new(CacheRemoveValuePolicy.Parse, Anywhere),
        ["cache-store-value"] = new(CacheStoreValuePolicy.Parse, Anywhere),
        ["check-header"] = new(CheckHeaderPolicy.Parse, [PolicySection.Inbound]),
        ["choose"] = new(ChoosePolicy.Parse, Anywhere),
        ["emit-metric"] = new(EmitMetricPolicy.Parse, Anywhere),
        ["forward-request"] = new(ForwardRequestPolicy.Parse, [PolicySection.Backend]),
        ["include-fragment"] = new(IncludeFragmentPolicy.Parse, Anywhere),
        ["mock-response"] = new(MockResponsePolicy.Parse, [PolicySection.Inbound, PolicySection.Outbound, PolicySection.OnError]),
        ["rate-limit"] = new(RateLimitPolicy.ParseBySubscription, [PolicySection.Inbound]),
        ["rate-limit-by-key"] = new(RateLimitPolicy.ParseByKey, [PolicySection.Inbound]),
        ["retry"] = new(RetryPolicy.Parse, Anywhere),
        ["return-response"] = new(ReturnResponsePolicy.Parse, Anywhere),
        ["rewrite-uri"] = new(RewriteUriPolicy.Parse, [PolicySection.Inbound]),
        ["set-backend-service"] = new(SetBackendServicePolicy.Parse, RequestSections),
        ["set-body"] = new(SetBodyPolicy.Parse, Anywhere),
        ["set-header"] = new(SetHeaderPolicy.Parse, Anywhere),
        ["set-method"] = new(SetMethodPolicy.Parse, [PolicySection.Inbound, PolicySection.OnError]),
        ["set-query-parameter"] = new(SetQueryParameterPolicy.Parse, RequestSections),
        ["set-status"] = new(SetStatusPolicy.Parse, Anywhere),
        ["set-variable"] = new(SetVariablePolicy.Parse, Anywhere),
        ["trace"] = new(TracePolicy.Parse, Anywhere),
    };

    public static IEnumerable<string> Names => Definitions.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string name, [NotNullWhen(true)] out ElementDefinition? definition) => Definitions.TryGetValue(name, out definition);
}

/// <summary>How to parse an element and where it may appear.</summary>
internal sealed record ElementDefinition(Func<ElementReader, PolicyElement?> Parse, PolicySection[] Sections);
