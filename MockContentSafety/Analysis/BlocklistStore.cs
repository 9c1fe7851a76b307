using System.Text.RegularExpressions;

namespace MockContentSafety.Analysis;

/// <summary>
/// The account's text blocklists, in memory (one store per mock process, so per account): created and changed through
/// the blocklist endpoints, consulted by <c>text:analyze</c>. A text item matches a text when its text appears in it as
/// whole words, in any case; a regular-expression item when its expression matches (<see cref="BlocklistPatterns"/>).
/// Item ids come from the injected source (UUIDs, as the service generates).
/// </summary>
internal sealed class BlocklistStore(Func<Guid> newId)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, Blocklist> _lists = new(StringComparer.Ordinal);

    public IReadOnlyList<(string Name, string? Description)> All()
    {
        lock (_lock)
        {
            return [.. _lists.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => (l.Key, l.Value.Description))];
        }
    }

    public bool TryGet(string name, out string? description)
    {
        lock (_lock)
        {
            var found = _lists.TryGetValue(name, out var list);
            description = list?.Description;
            return found;
        }
    }

    /// <summary>Creates the blocklist, or updates its description when given; true when it was created.</summary>
    public bool CreateOrUpdate(string name, string? description, out string? current)
    {
        lock (_lock)
        {
            if (_lists.TryGetValue(name, out var list))
            {
                list.Description = description ?? list.Description;
                current = list.Description;
                return false;
            }

            _lists[name] = new Blocklist { Description = description };
            current = description;
            return true;
        }
    }

    public bool Delete(string name)
    {
        lock (_lock)
        {
            return _lists.Remove(name);
        }
    }

    /// <summary>
    /// Adds items, or updates an item with the same text (compared in any case): its description, and whether it is a
    /// regular expression when <c>IsRegex</c> is given (with its compiled <c>Regex</c> when true; null: a text item when new,
    /// unchanged when there). Null when the
    /// blocklist does not exist. Returns the items as stored, with their ids.
    /// </summary>
    public IReadOnlyList<BlocklistItem>? AddOrUpdate(string name, IEnumerable<(string Text, string? Description, Regex? Regex, bool? IsRegex)> items)
    {
        lock (_lock)
        {
            if (!_lists.TryGetValue(name, out var list))
            {
                return null;
            }

            var result = new List<BlocklistItem>();
            foreach (var (text, description, regex, isRegex) in items)
            {
                // The same text in any case is the same item; a regular expression is the same item only written alike.
                var existing = list.Items.FindIndex(i => string.Equals(i.Text, text, i.IsRegex || isRegex == true ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase));
                var item = existing >= 0
                    ? list.Items[existing] with { Description = description }
                    : new BlocklistItem(newId().ToString(), text, description, false, BlocklistPatterns.ForText(text));
                if (isRegex is { } kind)
                {
                    item = item with { IsRegex = kind, Pattern = kind ? regex! : BlocklistPatterns.ForText(text) };
                }
                if (existing >= 0)
                {
                    list.Items[existing] = item;
                }
                else
                {
                    list.Items.Add(item);
                }

                result.Add(item);
            }

            return result;
        }
    }

    /// <summary>Removes the items with these ids (unknown ids are ignored); false when the blocklist does not exist.</summary>
    public bool Remove(string name, IReadOnlyCollection<string> ids)
    {
        lock (_lock)
        {
            if (!_lists.TryGetValue(name, out var list))
            {
                return false;
            }

            list.Items.RemoveAll(i => ids.Contains(i.Id, StringComparer.Ordinal));
            return true;
        }
    }

    /// <summary>The blocklist's items in the order they were added; null when it does not exist.</summary>
    public IReadOnlyList<BlocklistItem>? Items(string name)
    {
        lock (_lock)
        {
            return _lists.TryGetValue(name, out var list) ? [.. list.Items] : null;
        }
    }

    /// <summary>Each item of the named blocklists found in <paramref name="text"/>, list by list (matched outside the lock: a regular expression may take its time).</summary>
    public IReadOnlyList<(string Blocklist, BlocklistItem Item)> Matches(string text, IEnumerable<string> names)
    {
        List<(string Blocklist, BlocklistItem Item)> candidates;
        lock (_lock)
        {
            candidates = [.. names.Distinct(StringComparer.Ordinal)
                .Where(_lists.ContainsKey)
                .SelectMany(n => _lists[n].Items.Select(i => (n, i)))];
        }

        return [.. candidates.Where(c => BlocklistPatterns.Matches(c.Item.Pattern, text))];
    }

    private sealed class Blocklist
    {
        public string? Description { get; set; }

        public List<BlocklistItem> Items { get; } = [];
    }
}

/// <summary>One blocklist item: its id, its text and description, whether the text is a regular expression, and the pattern that finds it.</summary>
internal sealed record BlocklistItem(string Id, string Text, string? Description, bool IsRegex, Regex Pattern);
