using System.Security.Cryptography;
using System.Text;

namespace MockOpenAI.OpenAI;

/// <summary>Deterministic words and numbers seeded from the request, so the same request gets the same answer.</summary>
internal static class SyntheticText
{
    /// <summary>Words that are one token each, alone or after a space, in both o200k and cl100k (a test checks it).</summary>
    public static readonly IReadOnlyList<string> Words =
    [
        "Azure", "answers", "every", "request", "with", "care", "and", "the", "gateway", "balances", "load", "regions",
        "so", "that", "in", "one", "place", "never", "your", "application", "from", "working", "well", "today",
        "tokens", "flow", "through", "managed", "identity", "keys", "stay", "safe", "model", "cloud", "data", "clear",
    ];

    public static int Seed(string text) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0);

    /// <summary><paramref name="count"/> words, each exactly one token.</summary>
    public static IReadOnlyList<string> NextWords(int seed, int count)
    {
        var random = new Random(seed);
        var words = new string[count];
        for (var i = 0; i < count; i++)
        {
            var word = Words[random.Next(Words.Count)];
            words[i] = i == 0 ? word : " " + word;
        }

        return words;
    }
}
