namespace Gateway.Tests.Support;

/// <summary>
/// Marks a test as asserting API Management's behaviour for a policy element and the listed attributes of it.
/// <c>PolicyCoverageTests</c> fails when an element or attribute of the engine's registry has no such test.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class CoversAttribute(string element, params string[] attributes) : Attribute
{
    public string Element { get; } = element;

    public IReadOnlyList<string> Attributes { get; } = attributes;
}
