namespace Gateway.Policies;

/// <summary>
/// A policy text made acceptable to the XML parser, and the way back from its columns to the columns of the file as
/// written (escaping widens some characters into entities; lines never change).
/// </summary>
internal sealed class EscapedPolicy
{
    private readonly Dictionary<int, List<(int Column, int Extra)>> _shifts = [];

    /// <param name="text">The escaped text.</param>
    /// <param name="expansions">For each widened character: the index just past its entity, and how many characters it added.</param>
    public EscapedPolicy(string text, IReadOnlyList<(int Index, int Extra)> expansions)
    {
        Text = text;
        var line = 1;
        var lineStart = 0;
        var position = 0;
        foreach (var (index, extra) in expansions)
        {
            for (; position < index; position++)
            {
                if (text[position] == '\n')
                {
                    line++;
                    lineStart = position + 1;
                }
            }

            if (!_shifts.TryGetValue(line, out var shifts))
            {
                _shifts[line] = shifts = [];
            }

            shifts.Add((index - lineStart + 1, extra));
        }
    }

    public string Text { get; }

    /// <summary>The column in the file as written of a 1-based column of <see cref="Text"/>.</summary>
    public int ToOriginal(int line, int column)
    {
        if (!_shifts.TryGetValue(line, out var shifts))
        {
            return column;
        }

        var original = column;
        foreach (var (shiftColumn, extra) in shifts)
        {
            if (shiftColumn <= column)
            {
                original -= extra;
            }
        }

        return original;
    }
}
