using Microsoft.Extensions.Primitives;

namespace Gateway.Pipeline;

internal static class StringValuesExtensions
{
    /// <summary>The values as a plain array, with no null entries.</summary>
    public static string[] ToStrings(this StringValues values)
    {
        var result = new string[values.Count];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = values[i] ?? string.Empty;
        }

        return result;
    }
}
