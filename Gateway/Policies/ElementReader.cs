using System.Globalization;
using System.Xml.Linq;
using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary>
/// Reads one XML element for its policy class: values (literal or expression), literal-only attributes, children.
/// Every attribute must be read; the ones left over are reported as unknown, so nothing is silently ignored.
/// </summary>
internal sealed class ElementReader
{
    private readonly PolicyParser _parser;
    private readonly HashSet<string> _read = new(StringComparer.Ordinal) { "id" };
    private readonly string[]? _declared;

    public ElementReader(PolicyParser parser, XElement element, ElementInfo info, PolicySection section)
    {
        _parser = parser;
        Element = element;
        Info = info;
        Section = section;
        _declared = PolicyElements.TryGet(element.Name.LocalName, out var definition) ? definition.Attributes : null;
    }

    public XElement Element { get; }

    public ElementInfo Info { get; }

    public PolicySection Section { get; }

    /// <summary>An attribute that may be an expression.</summary>
    public PolicyValue? Value(string name, bool required = false, ExpressionKind kind = ExpressionKind.Value)
    {
        var attribute = Attribute(name, required);
        return attribute is null ? null : _parser.ParseValue(attribute.Value, _parser.LocationOfValue(attribute), kind, fromAttribute: true);
    }

    /// <summary>An attribute that API Management does not allow expressions in.</summary>
    public string? Literal(string name, bool required = false)
    {
        var attribute = Attribute(name, required);
        if (attribute is not null && PolicyParser.IsExpression(attribute.Value))
        {
            Error($"attribute '{name}' of <{Info.Name}> does not accept policy expressions", _parser.LocationOfValue(attribute));
        }

        return attribute?.Value;
    }

    public bool Bool(string name, bool defaultValue)
    {
        var text = Literal(name);
        if (text is null)
        {
            return defaultValue;
        }

        if (bool.TryParse(text, out var value))
        {
            return value;
        }

        Error($"attribute '{name}' of <{Info.Name}> must be true or false, not '{text}'");
        return defaultValue;
    }

    public int? Int(string name, int min, int max)
    {
        var text = Literal(name);
        if (text is null)
        {
            return null;
        }

        if (int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
        {
            return value;
        }

        Error($"attribute '{name}' of <{Info.Name}> must be a whole number from {min} to {max}, not '{text}'");
        return null;
    }

    /// <summary>The policy elements inside this one (as in <c>when</c>), parsed for the same section.</summary>
    public IReadOnlyList<PolicyElement> PolicyChildren() => _parser.ParseElements(Element, Section, Info.Path + "/");

    /// <summary>The elements of a fragment, parsed for this element's section.</summary>
    public IReadOnlyList<PolicyElement> Fragment(string id) => _parser.ParseFragment(id, Section, Info.Path + "/", Info.Location);

    /// <summary>Child elements with one name; any other child element is an error.</summary>
    public IReadOnlyList<XElement> Children(params string[] allowed)
    {
        var children = new List<XElement>();
        foreach (var child in Element.Elements())
        {
            if (allowed.Contains(child.Name.LocalName, StringComparer.Ordinal))
            {
                children.Add(child);
            }
            else
            {
                Error($"<{child.Name.LocalName}> is not allowed inside <{Info.Name}> (allowed: {string.Join(", ", allowed.Select(a => "<" + a + ">"))})", _parser.LocationOf(child));
            }
        }

        return children;
    }

    /// <summary>The text of a child such as <c>&lt;value&gt;</c>, literal or expression.</summary>
    /// <param name="element">The element whose text is the value.</param>
    /// <param name="kind">What the value must produce when it is an expression.</param>
    /// <param name="ownAttributes">Whether the element's attributes are read elsewhere (as <c>set-body</c>'s are); otherwise any is unknown.</param>
    public PolicyValue TextValue(XElement element, ExpressionKind kind = ExpressionKind.Value, bool ownAttributes = false)
    {
        foreach (var attribute in ownAttributes ? [] : element.Attributes())
        {
            Error($"unknown attribute '{attribute.Name.LocalName}' on <{element.Name.LocalName}>", _parser.LocationOf(attribute));
        }

        var text = element.Nodes().OfType<XText>().FirstOrDefault();
        var location = text is null ? _parser.LocationOf(element) : _parser.LocationOf(text);
        return _parser.ParseValue(element.Value, location, kind);
    }

    public ElementReader Reader(XElement child, int index) =>
        new(_parser, child, _parser.InfoOf(child, $"{Info.Path}/{child.Name.LocalName}[{index}]"), Section);

    public void Error(string message, SourceLocation? location = null) => _parser.Error(location ?? Info.Location, message);

    /// <summary>An attribute API Management documents but this gateway does not support (yet): an error when present with another value than <paramref name="supportedValue"/>.</summary>
    public void Refuse(string name, string? supportedValue = null, string? reason = null)
    {
        _read.Add(name);
        var value = Element.Attribute(name)?.Value;
        if (value is not null && value != supportedValue)
        {
            Error($"{name}=\"{value}\" on <{Info.Name}> is not supported by this gateway" + (reason is null ? string.Empty : $" ({reason})")
                + (supportedValue is null ? string.Empty : $"; only \"{supportedValue}\" is"));
        }
    }

    /// <summary>Reports every attribute no one read.</summary>
    public void Finish()
    {
        foreach (var attribute in Element.Attributes())
        {
            if (!attribute.IsNamespaceDeclaration && !_read.Contains(attribute.Name.LocalName))
            {
                Error($"unknown attribute '{attribute.Name.LocalName}' on <{Info.Name}>", _parser.LocationOf(attribute));
            }
        }
    }

    private XAttribute? Attribute(string name, bool required)
    {
        if (_declared is not null && !_declared.Contains(name, StringComparer.Ordinal))
        {
            throw new InvalidOperationException($"<{Info.Name}> reads attribute '{name}', which its entry in PolicyElements does not list.");
        }

        _read.Add(name);
        var attribute = Element.Attribute(name);
        if (attribute is null && required)
        {
            Error($"<{Info.Name}> requires attribute '{name}'");
        }

        return attribute;
    }
}
