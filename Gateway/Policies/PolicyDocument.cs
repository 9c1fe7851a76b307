using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary>A parsed policy document of one scope, with its compiled expressions.</summary>
internal sealed class PolicyDocument : IDisposable
{
    private readonly IReadOnlyDictionary<PolicySection, IReadOnlyList<PolicyElement>> _sections;

    public PolicyDocument(string source, PolicyScope scope, IReadOnlyDictionary<PolicySection, IReadOnlyList<PolicyElement>> sections, CompiledExpressions expressions, IReadOnlyDictionary<PolicySection, SourceLocation>? sectionLocations = null)
    {
        SectionLocations = sectionLocations ?? new Dictionary<PolicySection, SourceLocation>();
        Source = source;
        Scope = scope;
        _sections = sections;
        Expressions = expressions;
    }

    /// <summary>The file (or resource) the document came from.</summary>
    public string Source { get; }

    public PolicyScope Scope { get; }

    public CompiledExpressions Expressions { get; }

    /// <summary>Whether the document reads or replaces the request body, so requests must be buffered when they arrive.</summary>
    public bool UsesRequestBody { get; init; }

    /// <summary>Where each section the document has starts in the file.</summary>
    public IReadOnlyDictionary<PolicySection, SourceLocation> SectionLocations { get; }

    /// <summary>The section's elements, or null when the document omits the section.</summary>
    public IReadOnlyList<PolicyElement>? this[PolicySection section] => _sections.TryGetValue(section, out var elements) ? elements : null;

    public void Dispose() => Expressions.Dispose();
}
