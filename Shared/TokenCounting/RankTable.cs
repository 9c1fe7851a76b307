using System.IO.Compression;
using System.Numerics;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace TokenCounting;

/// <summary>
/// A tiktoken vocabulary: every token's bytes and its rank (its id, and its priority when pairs merge), looked up by the
/// bytes. Kept compact because a gateway holds it for its whole life: all tokens' bytes in one array, a start offset per
/// rank and an open-addressing hash table of ranks, about 4 MB for o200k_base's 200,000 tokens (a dictionary of byte
/// arrays, with a decoder and a string vocabulary beside it, held 42 MB).
/// </summary>
internal sealed class RankTable
{
    private readonly byte[] _bytes;
    private readonly int[] _starts;
    private readonly int[] _slots;
    private readonly int _mask;

    private RankTable(byte[] bytes, int[] starts)
    {
        _bytes = bytes;
        _starts = starts;
        var count = starts.Length - 1;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(count * 2, 2));
        _slots = new int[size];
        _mask = size - 1;
        for (var rank = 0; rank < count; rank++)
        {
            var slot = (int)Hash(Token(rank)) & _mask;
            while (_slots[slot] != 0)
            {
                slot = (slot + 1) & _mask;
            }

            _slots[slot] = rank + 1;
        }
    }

    /// <summary>
    /// Reads a vocabulary embedded as tiktoken's <c>.tiktoken</c> file deflated, as the Microsoft.ML.Tokenizers data
    /// packages ship it: an optional <c>Capacity: N</c> line, then one token a line in base64, its rank the line's index
    /// among the token lines, or the number after a space where the line has one.
    /// </summary>
    public static RankTable FromEmbeddedData(string assemblyName, string resourceName)
    {
        var assembly = Assembly.Load(assemblyName);
        using var deflated = assembly.GetManifestResourceStream(resourceName)
            ?? throw new InvalidOperationException($"The assembly {assemblyName} has no resource {resourceName}.");
        using var text = new DeflateStream(deflated, CompressionMode.Decompress);
        return Read(new StreamReader(text, Encoding.ASCII));
    }

    // tiktoken's text format (see FromEmbeddedData); ranks must run from 0 without a gap.
    private static RankTable Read(TextReader reader)
    {
        var tokens = new List<byte[]>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line.StartsWith("Capacity:", StringComparison.Ordinal))
            {
                continue;
            }

            var space = line.IndexOf(' ', StringComparison.Ordinal);
            if (space >= 0 && int.Parse(line.AsSpan(space + 1), provider: System.Globalization.CultureInfo.InvariantCulture) != tokens.Count)
            {
                throw new InvalidDataException($"The vocabulary's ranks must run from 0 without a gap; rank {tokens.Count} is missing.");
            }

            tokens.Add(Convert.FromBase64String(space < 0 ? line : line[..space]));
        }

        var starts = new int[tokens.Count + 1];
        for (var i = 0; i < tokens.Count; i++)
        {
            starts[i + 1] = starts[i] + tokens[i].Length;
        }

        var bytes = new byte[starts[^1]];
        for (var i = 0; i < tokens.Count; i++)
        {
            tokens[i].CopyTo(bytes, starts[i]);
        }

        return new RankTable(bytes, starts);
    }

    /// <summary>The rank of the token made of exactly <paramref name="token"/>, or -1 when no token is.</summary>
    public int Rank(ReadOnlySpan<byte> token)
    {
        var slot = (int)Hash(token) & _mask;
        while (true)
        {
            var entry = _slots[slot];
            if (entry == 0)
            {
                return -1;
            }

            if (Token(entry - 1).SequenceEqual(token))
            {
                return entry - 1;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>The bytes of the token of rank <paramref name="rank"/>.</summary>
    public ReadOnlySpan<byte> Token(int rank) => _bytes.AsSpan(_starts[rank], _starts[rank + 1] - _starts[rank]);

    // FNV-1a: tokens are short (a few bytes), where it beats the general-purpose hashes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Hash(ReadOnlySpan<byte> bytes)
    {
        var hash = 2166136261u;
        foreach (var b in bytes)
        {
            hash = (hash ^ b) * 16777619u;
        }

        return hash;
    }
}
