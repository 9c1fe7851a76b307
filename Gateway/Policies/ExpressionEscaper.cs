using System.Text;

namespace Gateway.Policies;

/// <summary>
/// API Management accepts policy expressions with raw double quotes in attributes and raw generics in element text
/// (<c>condition="@(context.Variables.ContainsKey("x"))"</c>, <c>&lt;value&gt;@(v.GetValueOrDefault&lt;int&gt;("n"))</c>),
/// which XML forbids. Before the XML parser sees the document, this escapes such characters inside each expression,
/// found by scanning the C# (strings, characters, comments, nested brackets). Line numbers are unchanged, and
/// <see cref="EscapedPolicy.ToOriginal"/> maps columns back to the file as written.
/// </summary>
internal static class ExpressionEscaper
{
    public static EscapedPolicy Escape(string text)
    {
        text = text.ReplaceLineEndings("\n");
        StringBuilder? result = null;
        List<(int Index, int Extra)>? expansions = null;
        var copied = 0;
        var ranges = new List<(int Start, int End)>();
        for (var i = 0; i + 2 < text.Length; i++)
        {
            // An expression is the whole text of an element (>@(...)<), or stands in an attribute value, alone
            // (="@(...)") or among literal text (base-url="https://@(...).example.com/"), as API Management allows.
            var quote = text[i];
            var inAttribute = (quote == '"' || quote == '\'') && Follows(text, i, '=');
            var inText = quote == '>' || (char.IsWhiteSpace(quote) && Follows(text, i + 1, '>'));
            int end;
            ranges.Clear();
            if (inAttribute)
            {
                end = AttributeExpressions(text, i + 1, quote, ranges);
                if (end < 0)
                {
                    continue;
                }
            }
            else if (inText && text[i + 1] == '@' && (text[i + 2] == '(' || text[i + 2] == '{'))
            {
                end = ScanExpression(text, i + 1);
                if (end < 0 || end >= text.Length || !ClosesText(text, end))
                {
                    continue;
                }

                ranges.Add((i + 1, end));
            }
            else
            {
                continue;
            }

            result ??= new StringBuilder(text.Length + 64);
            expansions ??= [];
            foreach (var (from, to) in ranges)
            {
                result.Append(text, copied, from - copied);
                EscapeExpression(text, from, to, inAttribute, result, expansions);
                copied = to;
            }

            i = end;
        }

        return result is null ? new EscapedPolicy(text, []) : new EscapedPolicy(result.Append(text, copied, text.Length - copied).ToString(), expansions!);
    }

    /// <summary>
    /// The expressions of the attribute value starting at <paramref name="at"/> (just past its opening quote) and the
    /// index of its closing quote; -1 when the value holds no expression or does not close after them.
    /// </summary>
    private static int AttributeExpressions(string text, int at, char quote, List<(int Start, int End)> ranges)
    {
        var i = at;
        while (i < text.Length)
        {
            var c = text[i];
            if (c == quote)
            {
                return ranges.Count > 0 ? i : -1;
            }

            if (c is '<' or '\n')
            {
                return -1;
            }

            if (c == '@' && i + 1 < text.Length && (text[i + 1] == '(' || text[i + 1] == '{'))
            {
                var end = ScanExpression(text, i);
                if (end < 0)
                {
                    return -1;
                }

                ranges.Add((i, end));
                i = end;
                continue;
            }

            i++;
        }

        return -1;
    }

    /// <summary>Appends the expression <paramref name="from"/>..<paramref name="to"/> with what XML forbids there escaped.</summary>
    private static void EscapeExpression(string text, int from, int to, bool inAttribute, StringBuilder result, List<(int Index, int Extra)> expansions)
    {
        for (var j = from; j < to; j++)
        {
            var c = text[j];
            var replacement = c switch
            {
                '"' => "&quot;",
                '\'' => "&apos;",
                '<' => "&lt;",
                '&' when !StartsEntity(text, j) => "&amp;",

                // XML turns a newline inside an attribute into a space; the character reference keeps it, and the
                // raw newline after it keeps the line numbers (it becomes a space the parser strips again).
                '\n' when inAttribute => "&#10;\n",
                _ => null,
            };
            if (replacement is null)
            {
                result.Append(c);
                continue;
            }

            var extra = c == '\n' ? 0 : replacement.Length - 1;
            result.Append(replacement);
            if (extra > 0)
            {
                expansions.Add((result.Length, extra));
            }
        }
    }

    /// <summary>The index just past the bracket that closes the expression starting at <paramref name="at"/> (the '@'), or -1.</summary>
    internal static int ScanExpression(string text, int at)
    {
        var depth = 0;
        for (var i = at + 1; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '(' or '{' or '[':
                    depth++;
                    break;
                case ')' or '}' or ']':
                    if (--depth == 0)
                    {
                        return i + 1;
                    }

                    break;
                case '"':
                    i = SkipString(text, i, verbatim: text[i - 1] == '@' || (text[i - 1] == '$' && text[i - 2] == '@'));
                    break;
                case '\'':
                    i = SkipQuoted(text, i, '\'');
                    break;
                case '/' when i + 1 < text.Length && text[i + 1] == '/':
                    i = Math.Max(text.IndexOf('\n', i), i);
                    break;
                case '/' when i + 1 < text.Length && text[i + 1] == '*':
                    var close = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                    i = close < 0 ? text.Length : close + 1;
                    break;
            }

            if (i >= text.Length)
            {
                return -1;
            }
        }

        return -1;
    }

    private static int SkipString(string text, int open, bool verbatim)
    {
        for (var i = open + 1; i < text.Length; i++)
        {
            if (!verbatim && text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == '"')
            {
                if (verbatim && i + 1 < text.Length && text[i + 1] == '"')
                {
                    i++;
                    continue;
                }

                return i;
            }
        }

        return text.Length;
    }

    private static int SkipQuoted(string text, int open, char quote)
    {
        for (var i = open + 1; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
        }

        return text.Length;
    }

    /// <summary>Whether the last non-blank character before <paramref name="at"/> is <paramref name="expected"/>.</summary>
    private static bool Follows(string text, int at, char expected)
    {
        var i = at - 1;
        while (i >= 0 && char.IsWhiteSpace(text[i]))
        {
            i--;
        }

        return i >= 0 && text[i] == expected;
    }

    /// <summary>Whether only blanks stand between <paramref name="at"/> and the next tag.</summary>
    private static bool ClosesText(string text, int at)
    {
        var i = at;
        while (i < text.Length && char.IsWhiteSpace(text[i]))
        {
            i++;
        }

        return i < text.Length && text[i] == '<';
    }

    private static bool StartsEntity(string text, int at)
    {
        var semicolon = text.IndexOf(';', at);
        if (semicolon < 0 || semicolon - at > 8)
        {
            return false;
        }

        var name = text.AsSpan(at + 1, semicolon - at - 1);
        return name is "amp" or "lt" or "gt" or "quot" or "apos" || (name.Length > 1 && name[0] == '#');
    }
}
