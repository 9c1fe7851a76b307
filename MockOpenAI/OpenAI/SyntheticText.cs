using System.Security.Cryptography;
using System.Text;

namespace MockOpenAI.OpenAI;

/// <summary>Deterministic words and numbers seeded from the request, so the same request gets the same answer.</summary>
internal static class SyntheticText
{
    private static readonly string[] Words =
    [
        "Azure", "OpenAI", "answers", "every", "request", "with", "care", "and", "the", "gateway", "balances", "load",
        "across", "regions", "so", "that", "throttling", "in", "one", "place", "never", "stops", "your", "application",
        "from", "working", "well", "today", "tokens", "flow", "through", "managed", "identity", "keys", "stay", "safe",
    ];

    public static int Seed(string text) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0);

    /// <summary><paramref name="count"/> words (one token each in this step's simple token model).</summary>
    public static IReadOnlyList<string> NextWords(int seed, int count)
    {
        var random = new Random(seed);
        var words = new string[count];
        for (var i = 0; i < count; i++)
        {
            var word = Words[random.Next(Words.Length)];
            words[i] = i == 0 ? word : " " + word;
        }

        return words;
    }

    /// <summary>A unit-length vector, deterministic for the input.</summary>
    public static float[] Embedding(string input, int dimensions)
    {
        var random = new Random(Seed(input));
        var vector = new float[dimensions];
        double norm = 0;
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] = (float)(random.NextDouble() * 2 - 1);
            norm += vector[i] * vector[i];
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    /// <summary>A rough token count (about four characters a token) until step 2 brings the real tokenizers.</summary>
    public static int EstimateTokens(string text) => Math.Max(1, (text.Length + 3) / 4);
}
