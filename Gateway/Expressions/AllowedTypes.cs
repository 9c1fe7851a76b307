using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Gateway.Expressions;

/// <summary>
/// API Management's allowed types for policy expressions, enforced when the policy loads: every type an expression
/// names, constructs or calls a member of must be on the list, and for the types API Management lists with only some
/// members (<c>DateTime</c>, <c>JsonConvert</c>, the regular-expression types, <c>XDocument</c>...), the member must be one
/// of those. Whole namespaces (collections, cryptography, <c>System.Xml.Linq</c>, <c>Newtonsoft.Json.Linq</c>) are allowed
/// where API Management lists every type in them.
/// </summary>
internal static class AllowedTypes
{
    public const string DiagnosticId = "APIM0005";

    private static readonly HashSet<string> Types = new(StringComparer.Ordinal)
    {
        "System.Object", "System.Boolean", "System.Byte", "System.SByte", "System.Char", "System.Int16", "System.Int32", "System.Int64",
        "System.UInt16", "System.UInt32", "System.UInt64", "System.Single", "System.Double", "System.Decimal", "System.String",
        "System.Guid", "System.DateTime", "System.DateTimeOffset", "System.TimeSpan", "System.Nullable`1", "System.Tuple",
        "System.Tuple`1", "System.Tuple`2", "System.Tuple`3", "System.Tuple`4", "System.Tuple`5", "System.Tuple`6", "System.Tuple`7",
        "System.Uri", "System.UriPartial", "System.Array", "System.Convert", "System.BitConverter", "System.Math", "System.MidpointRounding",
        "System.Random", "System.Exception", "System.ArgumentException", "System.ArgumentNullException", "System.ArgumentOutOfRangeException",
        "System.InvalidOperationException", "System.NotImplementedException", "System.NotSupportedException", "System.FormatException",
        "System.StringComparison", "System.StringComparer", "System.StringSplitOptions", "System.Enum", "System.Func`1", "System.Func`2",
        "System.Func`3", "System.Func`4", "System.Action", "System.Action`1", "System.Action`2", "System.Globalization.CultureInfo",
        "System.Globalization.NumberStyles", "System.Globalization.DateTimeStyles", "System.TimeZoneInfo", "System.DayOfWeek",
        "System.Linq.Enumerable", "System.Linq.IGrouping`2", "System.Linq.IOrderedEnumerable`1", "System.Linq.ILookup`2",
        "System.IO.StringReader", "System.IO.StringWriter", "System.Net.IPAddress", "System.Net.WebUtility",
        "System.Text.Encoding", "System.Text.StringBuilder", "System.Xml.XmlNodeType",
        "Newtonsoft.Json.JsonConvert", "Newtonsoft.Json.Formatting",
    };

    private static readonly string[] Namespaces =
    [
        "System.Collections.Generic", "System.Text.RegularExpressions", "System.Security.Cryptography",
        "System.Security.Cryptography.X509Certificates", "System.Xml.Linq", "Newtonsoft.Json.Linq", "Gateway.Expressions",
    ];

    /// <summary>The members API Management allows on types it does not open entirely (<c>.ctor</c> is a constructor, <c>this[]</c> an indexer).</summary>
    private static readonly Dictionary<string, HashSet<string>> Members = new(StringComparer.Ordinal)
    {
        ["Newtonsoft.Json.JsonConvert"] = ["SerializeObject", "DeserializeObject"],
        ["System.DateTime"] =
        [
            ".ctor", "Add", "AddDays", "AddHours", "AddMilliseconds", "AddMinutes", "AddMonths", "AddSeconds", "AddTicks", "AddYears", "Date",
            "Day", "DayOfWeek", "DayOfYear", "DaysInMonth", "Hour", "IsDaylightSavingTime", "IsLeapYear", "MaxValue", "Millisecond", "Minute",
            "MinValue", "Month", "Now", "Parse", "Second", "Subtract", "Ticks", "TimeOfDay", "Today", "ToString", "UtcNow", "Year",
        ],
        ["System.DateTimeKind"] = ["Utc"],
        ["System.Security.Cryptography.X509Certificates.X500DistinguishedName"] = ["Name"],
        ["System.Text.RegularExpressions.Capture"] = ["Index", "Length", "Value"],
        ["System.Text.RegularExpressions.CaptureCollection"] = ["Count", "this[]"],
        ["System.Text.RegularExpressions.Group"] = ["Captures", "Success"],
        ["System.Text.RegularExpressions.GroupCollection"] = ["Count", "this[]"],
        ["System.Text.RegularExpressions.Match"] = ["Empty", "Groups", "Result"],
        ["System.Text.RegularExpressions.Regex"] = [".ctor", "IsMatch", "Match", "Matches", "Replace", "Unescape", "Split"],
    };

    /// <summary>Members API Management excludes from a type it otherwise allows.</summary>
    private static readonly Dictionary<string, HashSet<string>> ExcludedMembers = new(StringComparer.Ordinal)
    {
        ["System.Xml.Linq.XDocument"] = ["Load"],
    };

    /// <summary>Diagnostics (at the generated source) for every type outside the list, or member outside a type's allowed members, that an expression uses.</summary>
    public static IEnumerable<(Location Location, string TypeName)> Violations(SemanticModel model, SyntaxNode root, Func<int, bool> inExpression)
    {
        foreach (var node in root.DescendantNodes().Where(n => n is SimpleNameSyntax or ObjectCreationExpressionSyntax or ArrayCreationExpressionSyntax))
        {
            if (!inExpression(node.SpanStart))
            {
                continue;
            }

            var symbol = model.GetSymbolInfo(node).Symbol;
            var type = symbol switch
            {
                ITypeSymbol t => t,
                IMethodSymbol { MethodKind: MethodKind.Constructor } constructor => constructor.ContainingType,
                IMethodSymbol method => method.ReducedFrom?.ContainingType ?? method.ContainingType,
                IPropertySymbol or IFieldSymbol or IEventSymbol => symbol.ContainingType,
                _ => null,
            };

            foreach (var used in Flatten(type))
            {
                if (!IsAllowed(used))
                {
                    yield return (node.GetLocation(), used.ToDisplayString());
                }
            }

            if (symbol is IMethodSymbol { ReducedFrom: null } or IPropertySymbol or IFieldSymbol && symbol.ContainingType is { } containing && !IsAllowedMember(containing, symbol))
            {
                yield return (node.GetLocation(), $"{containing.ToDisplayString()}' member '{MemberName(symbol)}");
            }
        }
    }

    private static bool IsAllowedMember(INamedTypeSymbol type, ISymbol member)
    {
        var name = FullName(type);
        var memberName = MemberName(member);
        return (!Members.TryGetValue(name, out var allowed) || allowed.Contains(memberName))
            && (!ExcludedMembers.TryGetValue(name, out var excluded) || !excluded.Contains(memberName));
    }

    private static string MemberName(ISymbol member) => member switch
    {
        IMethodSymbol { MethodKind: MethodKind.Constructor } => ".ctor",
        IPropertySymbol { IsIndexer: true } => "this[]",
        IMethodSymbol { AssociatedSymbol: IPropertySymbol property } => property.Name,
        _ => member.Name,
    };

    private static string FullName(ITypeSymbol type)
    {
        var definition = type.OriginalDefinition;
        var ns = definition.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        return ns.Length == 0 ? definition.MetadataName : ns + "." + definition.MetadataName;
    }

    private static IEnumerable<ITypeSymbol> Flatten(ITypeSymbol? type)
    {
        switch (type)
        {
            case null:
                yield break;
            case IArrayTypeSymbol array:
                foreach (var element in Flatten(array.ElementType))
                {
                    yield return element;
                }

                break;
            case INamedTypeSymbol named:
                yield return named;
                foreach (var argument in named.TypeArguments.SelectMany(Flatten))
                {
                    yield return argument;
                }

                break;
            case ITypeParameterSymbol:
                yield break;
            default:
                yield return type;
                break;
        }
    }

    private static bool IsAllowed(ITypeSymbol type)
    {
        if (type.IsAnonymousType || type.TypeKind is TypeKind.TypeParameter or TypeKind.Error || type.SpecialType == SpecialType.System_Void)
        {
            return true;
        }

        var definition = type.OriginalDefinition;
        var ns = definition.ContainingNamespace?.ToDisplayString() ?? string.Empty;
        var name = FullName(definition);
        return Types.Contains(name) || Namespaces.Contains(ns, StringComparer.Ordinal) || (definition.ContainingType is { } outer && IsAllowed(outer));
    }
}
