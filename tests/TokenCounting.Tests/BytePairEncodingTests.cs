using System.Text;
using Microsoft.ML.Tokenizers;

namespace TokenCounting.Tests;

public class BytePairEncodingTests
{
    public static TheoryData<string> Encodings => ["o200k_base", "cl100k_base"];

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encode_GivesMicrosoftMLTokenizersIds_OnWrittenSamples(string encoding)
    {
        var (ours, reference) = Pair(encoding);

        foreach (var text in WrittenSamples())
        {
            AssertSameTokens(ours, reference, text);
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encode_GivesMicrosoftMLTokenizersIds_OnRandomText(string encoding)
    {
        var (ours, reference) = Pair(encoding);
        var random = new Random(20261206);

        for (var i = 0; i < 3000; i++)
        {
            AssertSameTokens(ours, reference, RandomText(random, random.Next(0, i % 10 == 0 ? 1200 : 120)));
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encode_GivesMicrosoftMLTokenizersStarts(string encoding)
    {
        var (ours, reference) = Pair(encoding);
        var random = new Random(6);
        // Without special tokens: the library's EncodeToTokens cuts most of them up as text, where its ids and counts
        // (and this encoder) take each as one token.
        var samples = WrittenSamples().Concat(Enumerable.Range(0, 500).Select(_ => RandomText(random, random.Next(1, 200))))
            .Where(text => !text.Contains("<|", StringComparison.Ordinal));

        foreach (var text in samples)
        {
            var tokens = new List<(int Rank, int Start)>();
            ours.Encode(text, tokens);

            var expected = reference.EncodeToTokens(text, out _).Select(t => t.Offset.Start.GetOffset(text.Length)).ToList();
            if (!expected.SequenceEqual(tokens.Select(t => t.Start)))
            {
                Assert.Fail($"Starts differ for {Escape(text)}: expected [{string.Join(',', expected)}], got [{string.Join(',', tokens.Select(t => t.Start))}]");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Count_IsTheNumberOfTokensEncoded(string encoding)
    {
        var ours = Pair(encoding).Ours;

        foreach (var text in WrittenSamples())
        {
            var tokens = new List<(int Rank, int Start)>();
            Assert.Equal(ours.Encode(text, tokens), ours.Count(text));
            Assert.Equal(tokens.Count, ours.Count(text));
        }
    }

    [Fact]
    public void Count_SpecialTokenInText_IsOneToken()
    {
        Assert.Equal(1, BytePairEncoding.O200k.Count("<|endoftext|>"));
        Assert.Equal(1, BytePairEncoding.Cl100k.Count("<|fim_middle|>"));
        Assert.Equal(BytePairEncoding.O200k.Count("<|fim_middle|>"), TiktokenTokenizer.CreateForEncoding("o200k_base").CountTokens("<|fim_middle|>"));
    }

    private static (BytePairEncoding Ours, Tokenizer Reference) Pair(string encoding) => encoding == "o200k_base"
        ? (BytePairEncoding.O200k, O200kReference.Value)
        : (BytePairEncoding.Cl100k, Cl100kReference.Value);

    private static readonly Lazy<Tokenizer> O200kReference = new(() => TiktokenTokenizer.CreateForEncoding("o200k_base"));
    private static readonly Lazy<Tokenizer> Cl100kReference = new(() => TiktokenTokenizer.CreateForEncoding("cl100k_base"));

    private static void AssertSameTokens(BytePairEncoding ours, Tokenizer reference, string text)
    {
        var tokens = new List<(int Rank, int Start)>();
        var count = ours.Encode(text, tokens);

        var expected = reference.EncodeToIds(text);
        if (!expected.SequenceEqual(tokens.Select(t => t.Rank)))
        {
            Assert.Fail($"Tokens differ for {Escape(text)}: expected [{string.Join(',', expected)}], got [{string.Join(',', tokens.Select(t => t.Rank))}]");
        }

        Assert.Equal(expected.Count, count);
        Assert.Equal(reference.CountTokens(text), ours.Count(text));
    }

    private static IEnumerable<string> WrittenSamples() =>
    [
        "",
        "Hello!",
        "Hello world, how are you?",
        "  leading and trailing spaces   ",
        "line one\nline two\r\n\r\nline four\n\n\n",
        "tabs\tand\tmore\t\t tabs",
        "He's, they'll, I'D, we'VE, you're, it'S, she'd, THEY'RE",
        "1234567890 3.14159 -42 1e10 0x1F 100,000,000",
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
        """{"messages":[{"role":"user","content":"Hello!"}],"max_tokens":16}""",
        "https://example.com/path/to/page?query=1&other=two#fragment",
        "こんにちは、世界。今日はいい天気ですね。",
        "Привет, мир! Как дела?",
        "مرحبا بالعالم",
        "नमस्ते दुनिया",
        "café naïve résumé coöperate",
        "e\u0301 combining a\u0300 marks",
        "emoji 😀🎉👍🏽 and 👨‍👩‍👧‍👦 family",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕄𝕒𝕥𝕙",
        "Supercalifragilisticexpialidocious antidisestablishmentarianism",
        new string('a', 300),
        string.Concat(Enumerable.Repeat("abcdefghij", 40)),
        string.Concat(Enumerable.Repeat("é", 200)),
        string.Concat(Enumerable.Repeat("😀", 100)),
        "Before <|endoftext|> after",
        "<|endofprompt|><|endoftext|>text<|fim_prefix|>x<|fim_middle|>y<|fim_suffix|>",
        "almost <|endoftext special <| |> <|endoftext|",
        "spaces before the end    ",
        "spaces before a special    <|endoftext|>",
        "\n\n\n   \n\t\n",
        "!!!???...,,,;;;:::---___===+++",
        "/* comment */ // another\n#include <stdio.h>",
        "ALLCAPS WORDS AND MixedCase camelCaseWords PascalCase snake_case kebab-case",
        "\u00a0non-breaking\u2009thin\u3000ideographic spaces",
        "lone \ud800 high and \udc00 low surrogates",
    ];

    private static readonly string[] Alphabet =
    [
        "a", "b", "z", "A", "Q", "é", "É", "ß", "ñ", "ж", "Ж", "中", "文", "の", "한", "ا", "ه", "अ", "्", "\u0301",
        "😀", "👍", "\u200d", "𝔘", "0", "1", "7", "٣", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", "'", "'s", "'LL",
        "\"", ".", ",", "!", "?", "-", "_", "/", "\\", "(", ")", "{", "}", "<", ">", "|", "<|endoftext|>", "$", "%",
        "the", " the", "ing", "tion", " hello", "World", "http", "://", "123", "4567",
    ];

    private static string RandomText(Random random, int parts)
    {
        var text = new StringBuilder();
        for (var i = 0; i < parts; i++)
        {
            text.Append(Alphabet[random.Next(Alphabet.Length)]);
        }

        return text.ToString();
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c < 128 && !char.IsControl(c) ? c.ToString() : $"\\u{(int)c:x4}"));
}
