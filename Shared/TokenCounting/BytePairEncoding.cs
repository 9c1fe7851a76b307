using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace TokenCounting;

/// <summary>
/// tiktoken's byte-pair encoding, for counting and cutting text: special tokens are split out first; the text between
/// them is cut into pieces by the encoding's pattern; each piece's UTF-8 bytes start as one token a byte, and the
/// adjacent pair whose joined bytes have the lowest rank (the leftmost of equals) is merged until no pair is a token.
/// A piece that is a token as a whole is that token. The vocabularies are the ones the Microsoft.ML.Tokenizers data
/// packages embed, and the patterns are that library's, so counts and token ids are the library's
/// (<c>BytePairEncodingTests</c> compares them); only the tables are held in a compact form (<see cref="RankTable"/>).
/// </summary>
internal sealed partial class BytePairEncoding
{
    private const int NoRank = int.MaxValue;

    // Pieces up to this many UTF-8 bytes are merged in stack memory.
    private const int StackBytes = 256;

    private static readonly Lazy<BytePairEncoding> O200kBase = new(() => new(
        RankTable.FromEmbeddedData("Microsoft.ML.Tokenizers.Data.O200kBase", "o200k_base.tiktoken.deflate"),
        O200kPattern(),
        [("<|endoftext|>", 199999), ("<|endofprompt|>", 200018)]));

    private static readonly Lazy<BytePairEncoding> Cl100kBase = new(() => new(
        RankTable.FromEmbeddedData("Microsoft.ML.Tokenizers.Data.Cl100kBase", "cl100k_base.tiktoken.deflate"),
        Cl100kPattern(),
        [("<|endoftext|>", 100257), ("<|fim_prefix|>", 100258), ("<|fim_middle|>", 100259), ("<|fim_suffix|>", 100260), ("<|endofprompt|>", 100276)]));

    private readonly RankTable _ranks;
    private readonly Regex _pattern;
    private readonly (string Text, int Rank)[] _specialTokens;

    private BytePairEncoding(RankTable ranks, Regex pattern, (string Text, int Rank)[] specialTokens)
    {
        _ranks = ranks;
        _pattern = pattern;
        _specialTokens = specialTokens;
    }

    /// <summary>o200k_base (the gpt-4o family and newer), loaded on first use.</summary>
    public static BytePairEncoding O200k => O200kBase.Value;

    /// <summary>cl100k_base (gpt-4, gpt-3.5, the embedding models), loaded on first use.</summary>
    public static BytePairEncoding Cl100k => Cl100kBase.Value;

    /// <summary>The number of tokens <paramref name="text"/> encodes to.</summary>
    public int Count(ReadOnlySpan<char> text) => Encode(text, tokens: null);

    /// <summary>
    /// Encodes <paramref name="text"/>, adding each token's rank and the index of the character its first byte belongs to
    /// (a token that starts inside a multi-byte character has that character's index) to <paramref name="tokens"/> when
    /// given; returns the number of tokens.
    /// </summary>
    public int Encode(ReadOnlySpan<char> text, List<(int Rank, int Start)>? tokens)
    {
        var count = 0;
        var offset = 0;
        while (offset < text.Length)
        {
            var rest = text[offset..];
            var (specialAt, special) = NextSpecialToken(rest);
            var ordinary = rest[..(specialAt < 0 ? rest.Length : specialAt)];
            foreach (var match in _pattern.EnumerateMatches(ordinary))
            {
                count += EncodePiece(ordinary.Slice(match.Index, match.Length), offset + match.Index, tokens);
            }

            if (specialAt < 0)
            {
                break;
            }

            tokens?.Add((_specialTokens[special].Rank, offset + specialAt));
            count++;
            offset += specialAt + _specialTokens[special].Text.Length;
        }

        return count;
    }

    // o200k_base's and cl100k_base's patterns as Microsoft.ML.Tokenizers 2.0 writes them (cl100k_base's with .NET's
    // atomic groups for tiktoken's possessive quantifiers).
    [GeneratedRegex(@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    private static partial Regex O200kPattern();

    [GeneratedRegex(@"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s")]
    private static partial Regex Cl100kPattern();

    // The first special token in the text: its index (-1 when there is none) and which one.
    private (int At, int Which) NextSpecialToken(ReadOnlySpan<char> text)
    {
        var from = 0;
        while (from < text.Length)
        {
            var at = text[from..].IndexOf("<|", StringComparison.Ordinal);
            if (at < 0)
            {
                break;
            }

            at += from;
            for (var which = 0; which < _specialTokens.Length; which++)
            {
                if (text[at..].StartsWith(_specialTokens[which].Text, StringComparison.Ordinal))
                {
                    return (at, which);
                }
            }

            from = at + 1;
        }

        return (-1, 0);
    }

    private int EncodePiece(ReadOnlySpan<char> piece, int pieceStart, List<(int Rank, int Start)>? tokens)
    {
        var length = Encoding.UTF8.GetByteCount(piece);
        byte[]? rented = null;
        var bytes = length <= StackBytes ? stackalloc byte[StackBytes] : (rented = ArrayPool<byte>.Shared.Rent(length));
        bytes = bytes[..length];
        Utf8(piece, bytes);
        try
        {
            var whole = _ranks.Rank(bytes);
            if (whole >= 0)
            {
                tokens?.Add((whole, pieceStart));
                return 1;
            }

            return Merge(bytes, piece, pieceStart, tokens);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    // UTF-8, except that a lone surrogate is written as its own code point (three bytes) rather than as U+FFFD, as the
    // library does; UTF-8 has the same length either way.
    private static void Utf8(ReadOnlySpan<char> piece, Span<byte> bytes)
    {
        if (piece.IndexOfAnyInRange('\ud800', '\udfff') < 0)
        {
            Encoding.UTF8.GetBytes(piece, bytes);
            return;
        }

        var at = 0;
        for (var i = 0; i < piece.Length;)
        {
            var (chars, size) = Character(piece, i);
            var c = piece[i];
            if (chars == 1 && char.IsSurrogate(c))
            {
                bytes[at] = (byte)(0xe0 | (c >> 12));
                bytes[at + 1] = (byte)(0x80 | ((c >> 6) & 0x3f));
                bytes[at + 2] = (byte)(0x80 | (c & 0x3f));
            }
            else
            {
                (chars == 2 ? new Rune(c, piece[i + 1]) : new Rune(c)).EncodeToUtf8(bytes[at..]);
            }

            at += size;
            i += chars;
        }
    }

    private int Merge(ReadOnlySpan<byte> bytes, ReadOnlySpan<char> piece, int pieceStart, List<(int Rank, int Start)>? tokens)
    {
        // starts[i] is where part i begins (starts[parts] is the end); pairs[i] the rank of part i joined with part i + 1.
        var parts = bytes.Length;
        int[]? rentedStarts = null;
        int[]? rentedPairs = null;
        var starts = parts < StackBytes ? stackalloc int[StackBytes + 1] : (rentedStarts = ArrayPool<int>.Shared.Rent(parts + 1));
        var pairs = parts < StackBytes ? stackalloc int[StackBytes + 1] : (rentedPairs = ArrayPool<int>.Shared.Rent(parts + 1));
        try
        {
            for (var i = 0; i <= parts; i++)
            {
                starts[i] = i;
            }

            for (var i = 0; i < parts; i++)
            {
                pairs[i] = i + 2 <= parts ? RankOf(bytes, starts[i], starts[i + 2]) : NoRank;
            }

            while (parts > 1)
            {
                var best = -1;
                var bestRank = NoRank;
                for (var i = 0; i < parts - 1; i++)
                {
                    if (pairs[i] < bestRank)
                    {
                        bestRank = pairs[i];
                        best = i;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                // Part best + 1 joins part best: its start goes, and the pairs after it move down one.
                starts[(best + 2)..(parts + 1)].CopyTo(starts[(best + 1)..]);
                pairs[(best + 2)..parts].CopyTo(pairs[(best + 1)..]);
                parts--;
                pairs[best] = best + 2 <= parts ? RankOf(bytes, starts[best], starts[best + 2]) : NoRank;
                if (best > 0)
                {
                    pairs[best - 1] = RankOf(bytes, starts[best - 1], starts[best + 1]);
                }
            }

            if (tokens is not null)
            {
                AddTokens(bytes, starts[..(parts + 1)], piece, pieceStart, tokens);
            }

            return parts;
        }
        finally
        {
            if (rentedStarts is not null)
            {
                ArrayPool<int>.Shared.Return(rentedStarts);
                ArrayPool<int>.Shared.Return(rentedPairs!);
            }
        }
    }

    private int RankOf(ReadOnlySpan<byte> bytes, int from, int to)
    {
        var rank = _ranks.Rank(bytes[from..to]);
        return rank < 0 ? NoRank : rank;
    }

    // Each part's rank, and the character its first byte belongs to.
    private void AddTokens(ReadOnlySpan<byte> bytes, ReadOnlySpan<int> starts, ReadOnlySpan<char> piece, int pieceStart, List<(int Rank, int Start)> tokens)
    {
        var character = 0;
        var characterStart = 0;
        for (var part = 0; part < starts.Length - 1; part++)
        {
            while (true)
            {
                var (chars, size) = Character(piece, character);
                if (characterStart + size > starts[part])
                {
                    break;
                }

                characterStart += size;
                character += chars;
            }

            tokens.Add((_ranks.Rank(bytes[starts[part]..starts[part + 1]]), pieceStart + character));
        }
    }

    // The character at index in UTF-16 code units (2 for a surrogate pair, else 1) and in UTF-8 bytes (a lone surrogate
    // takes 3, written as its own code point).
    private static (int Chars, int Bytes) Character(ReadOnlySpan<char> text, int index)
    {
        var c = text[index];
        if (char.IsHighSurrogate(c) && index + 1 < text.Length && char.IsLowSurrogate(text[index + 1]))
        {
            return (2, 4);
        }

        return (1, c < 0x80 ? 1 : c < 0x800 ? 2 : 3);
    }
}
