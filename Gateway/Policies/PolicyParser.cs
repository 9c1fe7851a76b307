using System.Xml;
using System.Xml.Linq;
using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary>
/// Parses a policy document (named values already substituted) into elements and compiles its expressions into one
/// assembly. Every problem is collected and reported with file, line and column; a document with any problem is refused.
/// </summary>
internal sealed partial class PolicyParser
{
    /// <summary>How deep fragments may include fragments.</summary>
    private const int MaxFragmentDepth = 8;

    private readonly string _file;
    private readonly EscapedPolicy _escaped;
    private readonly string[] _lines;
    private readonly List<string> _problems;
    private readonly List<PolicyExpression> _expressions;
    private readonly Dictionary<PolicySection, SourceLocation> _sectionLocations = [];
    private readonly FragmentSource? _fragments;
    private readonly IReadOnlyList<string> _including;
    private readonly PolicyScope _scope;

    private PolicyParser(string file, PolicyScope scope, EscapedPolicy escaped, FragmentSource? fragments, List<string> problems, List<PolicyExpression> expressions, IReadOnlyList<string> including)
    {
        _scope = scope;
        _file = file;
        _escaped = escaped;
        _lines = escaped.Text.Split('\n');
        _fragments = fragments;
        _problems = problems;
        _expressions = expressions;
        _including = including;
    }

    /// <param name="text">The document, named values already substituted.</param>
    /// <param name="file">The file it came from, for messages.</param>
    /// <param name="scope">The scope the document applies at, for the elements API Management allows there.</param>
    /// <param name="fragments">Where <c>include-fragment</c> finds fragments; none means fragments are an error.</param>
    public static PolicyDocument Parse(string text, string file, PolicyScope scope, FragmentSource? fragments = null)
    {
        var parser = new PolicyParser(file, scope, ExpressionEscaper.Escape(text), fragments, [], [], []);
        XDocument document;
        try
        {
            document = XDocument.Parse(parser._escaped.Text, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new PolicyLoadException([$"{file}({ex.LineNumber},{parser._escaped.ToOriginal(ex.LineNumber, ex.LinePosition)}): error {PolicyDiagnostics.MalformedXml}: {ex.Message}"]);
        }

        var sections = parser.ParseSections(document.Root!);
        if (parser._problems.Count > 0)
        {
            throw new PolicyLoadException(parser._problems);
        }

        var expressions = ExpressionCompiler.Compile(file, parser._expressions);
        return new PolicyDocument(file, scope, sections, expressions, parser._sectionLocations)
        {
            UsesRequestBody = parser._expressions.Any(e => RequestBodyAccess().IsMatch(e.Code))
                || SetsBody(sections.Where(s => s.Key is PolicySection.Inbound or PolicySection.Backend).SelectMany(s => s.Value))
                || CopiesBody(sections.Where(s => s.Key != PolicySection.Outbound).SelectMany(s => s.Value)),
        };
    }

    /// <summary>An expression reading the request body (<c>context.Request.Body</c>); <c>context.Response.Body</c> needs no buffered request.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"Request\s*\.\s*Body\b")]
    private static partial System.Text.RegularExpressions.Regex RequestBodyAccess();

    /// <summary>Whether a <c>set-body</c> sits among the elements, in branches, retries and fragments included.</summary>
    private static bool SetsBody(IEnumerable<PolicyElement> elements) =>
        elements.Any(element => element is Elements.SetBodyPolicy || element.Nested.Any(SetsBody));

    /// <summary>Whether a <c>send-request</c> or <c>send-one-way-request</c> that may copy the request (and its body) sits among the elements.</summary>
    private static bool CopiesBody(IEnumerable<PolicyElement> elements) =>
        elements.Any(element => element is Elements.SendRequestPolicy { Request.MayCopy: true } or Elements.SendOneWayRequestPolicy { Request.MayCopy: true }
            || element.Nested.Any(CopiesBody));

    public static bool IsExpression(string text)
    {
        var trimmed = text.AsSpan().Trim();
        return trimmed.Length >= 3 && trimmed[0] == '@'
            && ((trimmed[1] == '(' && trimmed[^1] == ')') || (trimmed[1] == '{' && trimmed[^1] == '}'));
    }

    public void Error(SourceLocation location, string message, string code = PolicyDiagnostics.InvalidElement) =>
        _problems.Add($"{location}: error {code}: {message}");

    /// <param name="text">The value as the XML parser read it.</param>
    /// <param name="location">Where the value starts in the file.</param>
    /// <param name="kind">What the value must produce when it is an expression.</param>
    /// <param name="fromAttribute">Whether the value is an attribute's, whose newlines the escaper protected.</param>
    public PolicyValue ParseValue(string text, SourceLocation location, ExpressionKind kind, bool fromAttribute = false)
    {
        if (!IsExpression(text))
        {
            if (kind == ExpressionKind.Condition)
            {
                Error(location, $"a condition must be a policy expression such as @(true), not '{text}'");
            }

            return fromAttribute && ExpressionsInText(text, location) is { } parts ? PolicyValue.FromParts(parts) : PolicyValue.Literal(text);
        }

        var leading = text.Length - text.TrimStart().Length;
        var skipped = text.AsSpan(0, leading + 2);
        var newlines = skipped.Count('\n');
        var codeLocation = newlines == 0
            ? location with { Column = location.Column + leading + 2 }
            : location with { Line = location.Line + newlines, Column = skipped.Length - skipped.LastIndexOf('\n') };
        var trimmed = text.Trim();
        if (fromAttribute)
        {
            // Each protected newline arrives followed by the space its raw twin became (see ExpressionEscaper).
            trimmed = trimmed.Replace("\n ", "\n", StringComparison.Ordinal);
        }

        var expression = new PolicyExpression(_expressions.Count, trimmed[2..^1], trimmed[1] == '{', kind, codeLocation);
        _expressions.Add(expression);
        return PolicyValue.FromExpression(expression);
    }

    /// <summary>
    /// The pieces of an attribute value that holds expressions among literal text (<c>https://@(...).example.com/</c>,
    /// as Microsoft's samples write them): literal strings and compiled expressions, in order; null when it holds none.
    /// </summary>
    private List<object>? ExpressionsInText(string text, SourceLocation location)
    {
        List<object>? parts = null;
        var literalStart = 0;
        for (var i = 0; i + 1 < text.Length; i++)
        {
            if (text[i] != '@' || (text[i + 1] != '(' && text[i + 1] != '{'))
            {
                continue;
            }

            var end = ExpressionEscaper.ScanExpression(text, i);
            if (end < 0)
            {
                break;
            }

            parts ??= [];
            if (i > literalStart)
            {
                parts.Add(text[literalStart..i]);
            }

            var before = text.AsSpan(0, i + 2);
            var newlines = before.Count('\n');
            var codeLocation = newlines == 0
                ? location with { Column = location.Column + i + 2 }
                : location with { Line = location.Line + newlines, Column = before.Length - before.LastIndexOf('\n') };
            var code = text[(i + 2)..(end - 1)].Replace("\n ", "\n", StringComparison.Ordinal);
            var expression = new PolicyExpression(_expressions.Count, code, text[i + 1] == '{', ExpressionKind.Value, codeLocation);
            _expressions.Add(expression);
            parts.Add(expression);
            literalStart = end;
            i = end - 1;
        }

        if (parts is not null && literalStart < text.Length)
        {
            parts.Add(text[literalStart..]);
        }

        return parts;
    }

    /// <summary>
    /// The elements of fragment <paramref name="id"/>, parsed for <paramref name="section"/> as if written in place;
    /// their expressions join the including document's assembly, their problems name the fragment's file.
    /// </summary>
    public IReadOnlyList<PolicyElement> ParseFragment(string id, PolicySection section, string pathPrefix, SourceLocation at)
    {
        if (_fragments is null)
        {
            Error(at, $"fragment '{id}' cannot be resolved here (fragments live in the apim folder's fragments/)");
            return [];
        }

        if (_including.Contains(id, StringComparer.Ordinal) || _including.Count >= MaxFragmentDepth)
        {
            Error(at, $"fragment '{id}' includes itself (through {string.Join(" > ", _including.Append(id))}) or nests deeper than {MaxFragmentDepth}");
            return [];
        }

        if (_fragments.Read(id) is not { } fragment)
        {
            Error(at, $"fragment '{id}' does not exist (expected {_fragments.PathOf(id)})", PolicyDiagnostics.UnknownElement);
            return [];
        }

        var nested = new PolicyParser(fragment.Path, _scope, ExpressionEscaper.Escape(fragment.Text), _fragments, _problems, _expressions, [.. _including, id]);
        XDocument document;
        try
        {
            document = XDocument.Parse(nested._escaped.Text, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            _problems.Add($"{fragment.Path}({ex.LineNumber},{nested._escaped.ToOriginal(ex.LineNumber, ex.LinePosition)}): error {PolicyDiagnostics.MalformedXml}: {ex.Message}");
            return [];
        }

        if (document.Root!.Name.LocalName != "fragment")
        {
            nested.Error(nested.LocationOf(document.Root), $"the root element of a fragment must be <fragment>, not <{document.Root.Name.LocalName}>", PolicyDiagnostics.UnknownElement);
            return [];
        }

        return nested.ParseElements(document.Root, section, pathPrefix);
    }

    public IReadOnlyList<PolicyElement> ParseElements(XElement parent, PolicySection section, string pathPrefix)
    {
        var elements = new List<PolicyElement>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        RejectText(parent);
        foreach (var child in parent.Elements())
        {
            var name = child.Name.LocalName;
            var index = counts[name] = counts.GetValueOrDefault(name) + 1;
            if (!PolicyElements.TryGet(name, out var definition))
            {
                Error(LocationOf(child), $"unknown policy element <{name}>; supported here: {string.Join(", ", PolicyElements.Names)}", PolicyDiagnostics.UnknownElement);
                continue;
            }

            var info = InfoOf(child, $"{pathPrefix}{name}[{index}]");
            if (!definition.Sections.Contains(section))
            {
                Error(info.Location, $"<{name}> is not allowed in the {section.ToXmlName()} section (allowed in: {string.Join(", ", definition.Sections.Select(s => s.ToXmlName()))})");
                continue;
            }

            if (definition.Scopes is { } scopes && !scopes.Contains(_scope))
            {
                Error(info.Location, $"<{name}> is not allowed in the {_scope.ToApimName()} scope (API Management allows it in: {string.Join(", ", scopes.Select(s => s.ToApimName()))})");
                continue;
            }

            var reader = new ElementReader(this, child, info, section);
            var element = definition.Parse(reader);
            reader.Finish();
            if (element is not null)
            {
                elements.Add(element);
            }
        }

        return elements;
    }

    public ElementInfo InfoOf(XElement element, string path) =>
        new(element.Name.LocalName, LocationOf(element), path, element.Attribute("id")?.Value ?? string.Empty);

    public SourceLocation LocationOf(XObject node) =>
        node is IXmlLineInfo info && info.HasLineInfo() ? new(_file, info.LineNumber, _escaped.ToOriginal(info.LineNumber, info.LinePosition)) : new(_file, 1, 1);

    /// <summary>Where an attribute's value starts: after <c>name="</c>.</summary>
    public SourceLocation LocationOfValue(XAttribute attribute)
    {
        if (attribute is IXmlLineInfo info && info.HasLineInfo() && info.LineNumber - 1 < _lines.Length)
        {
            var line = _lines[info.LineNumber - 1];
            var quote = line.IndexOfAny(['"', '\''], Math.Min(info.LinePosition - 1, line.Length));
            if (quote >= 0)
            {
                return new(_file, info.LineNumber, _escaped.ToOriginal(info.LineNumber, quote + 2));
            }
        }

        return LocationOf(attribute);
    }

    private Dictionary<PolicySection, IReadOnlyList<PolicyElement>> ParseSections(XElement root)
    {
        var sections = new Dictionary<PolicySection, IReadOnlyList<PolicyElement>>();
        if (root.Name.LocalName != "policies")
        {
            Error(LocationOf(root), $"the root element must be <policies>, not <{root.Name.LocalName}>", PolicyDiagnostics.UnknownElement);
            return sections;
        }

        foreach (var attribute in root.Attributes())
        {
            Error(LocationOf(attribute), $"unknown attribute '{attribute.Name.LocalName}' on <policies>");
        }

        RejectText(root);
        foreach (var element in root.Elements())
        {
            var name = element.Name.LocalName;
            if (!PolicySectionNames.TryParse(name, out var section))
            {
                Error(LocationOf(element), $"unknown section <{name}>; a policy document has <inbound>, <backend>, <outbound> and <on-error>", PolicyDiagnostics.UnknownElement);
                continue;
            }

            if (sections.ContainsKey(section))
            {
                Error(LocationOf(element), $"section <{name}> appears twice");
                continue;
            }

            foreach (var attribute in element.Attributes())
            {
                Error(LocationOf(attribute), $"unknown attribute '{attribute.Name.LocalName}' on <{name}>");
            }

            _sectionLocations[section] = LocationOf(element);
            sections[section] = ParseElements(element, section, string.Empty);
        }

        return sections;
    }

    private void RejectText(XElement parent)
    {
        foreach (var text in parent.Nodes().OfType<XText>().Where(t => !string.IsNullOrWhiteSpace(t.Value)))
        {
            Error(LocationOf(text), $"unexpected text '{text.Value.Trim()}' inside <{parent.Name.LocalName}>");
        }
    }
}
