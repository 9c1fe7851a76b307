using System.Reflection;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies;

public sealed class PolicyCoverageTests
{
    [Fact]
    public void EveryRegisteredElementAndAttribute_HasATest()
    {
        var covered = typeof(PolicyCoverageTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Where(method => method.GetCustomAttributes<FactAttribute>().Any())
            .SelectMany(method => method.GetCustomAttributes<CoversAttribute>())
            .SelectMany(covers => covers.Attributes.Select(attribute => $"{covers.Element} @{attribute}").Append(covers.Element))
            .ToHashSet(StringComparer.Ordinal);

        var missing = PolicyElements.Registry
            .SelectMany(entry => entry.Attributes.Select(attribute => $"{entry.Element} @{attribute}").Prepend(entry.Element))
            .Where(item => !covered.Contains(item))
            .ToList();

        Assert.True(missing.Count == 0, "No test covers: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryCoversAttribute_NamesARegisteredElementAndAttribute()
    {
        var registry = PolicyElements.Registry.ToDictionary(entry => entry.Element, entry => entry.Attributes, StringComparer.Ordinal);
        var unknown = typeof(PolicyCoverageTests).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .SelectMany(method => method.GetCustomAttributes<CoversAttribute>().Select(covers => (method, covers)))
            .SelectMany(pair => registry.TryGetValue(pair.covers.Element, out var attributes)
                ? pair.covers.Attributes.Where(a => !attributes.Contains(a)).Select(a => $"{pair.method.Name}: {pair.covers.Element} @{a}")
                : [$"{pair.method.Name}: {pair.covers.Element}"])
            .ToList();

        Assert.True(unknown.Count == 0, "Unknown in [Covers]: " + string.Join(", ", unknown));
    }
}
