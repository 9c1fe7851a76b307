using System.Text;

namespace MockOpenAI.OpenAI;

/// <summary>
/// The mock's embedding model: a text's vector is its words and word pairs, feature-hashed into the requested number of
/// dimensions and scaled to unit length. The cosine similarity of two texts is therefore the overlap of their words
/// (weight <see cref="WordWeight"/>) and of their adjacent word pairs (weight <see cref="PairWeight"/>), up to hash
/// collisions: a paraphrase that keeps most words scores close to 1, a text that shares no word scores about 0. Words
/// are runs of letters and digits, compared without case, so punctuation and capitals do not matter; the same text
/// always gets the same vector. A text with no word at all (or whose features cancel out in very few dimensions) gets
/// the fixed vector of the empty text, so every vector has unit length. docs/mock.md has the model with worked figures.
/// </summary>
internal static class WordOverlapEmbedding
{
    public const float WordWeight = 1f;

    public const float PairWeight = 0.5f;

    /// <summary>A unit-length vector of <paramref name="dimensions"/> floats for <paramref name="text"/>.</summary>
    public static float[] Of(string text, int dimensions)
    {
        var vector = Unscaled(text, dimensions);
        var norm = SquaredNorm(vector);
        if (norm == 0)
        {
            // No word at all, or (in very few dimensions) features that cancel out: the fixed vector of the empty text.
            Array.Clear(vector);
            Add(vector, string.Empty, WordWeight);
            norm = SquaredNorm(vector);
        }

        var scale = (float)(1 / Math.Sqrt(norm));
        for (var i = 0; i < dimensions; i++)
        {
            vector[i] *= scale;
        }

        return vector;
    }

    /// <summary>The weighted features before scaling: what <see cref="Of"/> scales to unit length.</summary>
    public static float[] Unscaled(string text, int dimensions)
    {
        var vector = new float[dimensions];
        string? previous = null;
        foreach (var word in Words(text))
        {
            Add(vector, word, WordWeight);
            if (previous is not null)
            {
                Add(vector, previous + " " + word, PairWeight);
            }

            previous = word;
        }

        return vector;
    }

    private static double SquaredNorm(float[] vector)
    {
        double norm = 0;
        foreach (var value in vector)
        {
            norm += value * value;
        }

        return norm;
    }

    /// <summary>The words of a text: runs of letters and digits, lower-cased.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var start = -1;
        for (var i = 0; i <= text.Length; i++)
        {
            var inWord = i < text.Length && char.IsLetterOrDigit(text[i]);
            if (inWord && start < 0)
            {
                start = i;
            }
            else if (!inWord && start >= 0)
            {
                yield return text[start..i].ToLowerInvariant();
                start = -1;
            }
        }
    }

    /// <summary>Signed feature hashing: the feature's hash picks a dimension and a sign, so collisions cancel out on average.</summary>
    private static void Add(float[] vector, string feature, float weight)
    {
        var hash = Fnv1a(feature);
        var index = (int)(hash % (ulong)vector.Length);
        vector[index] += (hash >> 63) == 0 ? weight : -weight;
    }

    /// <summary>FNV-1a, 64 bits, over the UTF-8 bytes: stable across processes and platforms, unlike string.GetHashCode.</summary>
    private static ulong Fnv1a(string feature)
    {
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(feature))
        {
            hash = (hash ^ b) * 1099511628211UL;
        }

        return hash;
    }
}
