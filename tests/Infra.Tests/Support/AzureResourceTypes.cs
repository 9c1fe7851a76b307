using Azure.Bicep.Types.Az;
using Azure.Bicep.Types.Concrete;

namespace Infra.Tests.Support;

/// <summary>
/// The Azure resource types the Bicep CLI compiles against (the package Azure.Bicep.Types.Az, the version the CLI
/// embeds). The CLI accepts any string where a type lists its values with <c>| string</c> (most SKU names), so what a
/// resource type lists is read here.
/// </summary>
public static class AzureResourceTypes
{
    private static readonly AzTypeLoader Loader = new();
    private static readonly Lazy<Azure.Bicep.Types.Index.TypeIndex> Index = new(Loader.LoadTypeIndex);

    /// <summary>The string values a property of a resource type lists, following a path of object properties (<c>sku</c>, <c>name</c>).</summary>
    /// <param name="resourceType">The type and API version, <c>Microsoft.ApiManagement/service@2025-03-01-preview</c>.</param>
    /// <param name="path">The property names from the resource's body down to the property.</param>
    public static IReadOnlyList<string> ListedValues(string resourceType, params string[] path)
    {
        var key = Index.Value.Resources.Keys.SingleOrDefault(k => string.Equals(k, resourceType, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"the Bicep types have no {resourceType}");
        var resource = Loader.LoadResourceType(Index.Value.Resources[key]);
        var type = resource.Body.Type;
        foreach (var name in path)
        {
            var properties = ((ObjectType)type).Properties;
            var property = properties.SingleOrDefault(p => string.Equals(p.Key, name, StringComparison.OrdinalIgnoreCase)).Value
                ?? throw new InvalidOperationException($"{resourceType} has no property {string.Join('.', path)}");
            type = property.Type.Type;
        }

        return type switch
        {
            UnionType union => [.. union.Elements.Select(e => e.Type).OfType<StringLiteralType>().Select(s => s.Value)],
            StringLiteralType literal => [literal.Value],
            _ => [],
        };
    }
}
