using System.Text;
using Gateway.Expressions;
using Gateway.Policies;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace Gateway.Pipeline;

/// <summary>
/// A request body held in memory: read when the request arrives if its policy reads or replaces it, replaced by
/// <c>set-body</c>, and what <c>forward-request</c> sends when present.
/// </summary>
internal sealed class MessageBody : IMessageBody
{
    private byte[]? _content;

    /// <summary>Whether the gateway holds the body (and so forwards it from memory).</summary>
    public bool IsBuffered => _content is not null;

    public ReadOnlyMemory<byte> Content => _content ?? [];

    public static async Task<MessageBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return new MessageBody { _content = buffer.ToArray() };
    }

    public void Replace(byte[] content) => _content = content;

    public T As<T>(bool preserveContent = false)
    {
        if (_content is null)
        {
            throw new InvalidOperationException("The request body was not buffered.");
        }

        var result = Read<T>(_content);
        if (!preserveContent)
        {
            _content = [];
        }

        return result;
    }

    /// <summary>A body's bytes as <c>string</c>, <c>byte[]</c> or a JSON token, as <c>Body.As&lt;T&gt;()</c> gives them.</summary>
    public static T Read<T>(byte[] content)
    {
        // Each branch is boxed on its own: JToken's implicit conversions would otherwise turn the text into a JValue.
        object result;
        if (typeof(T) == typeof(string))
        {
            result = Encoding.UTF8.GetString(content);
        }
        else if (typeof(T) == typeof(byte[]))
        {
            result = content.ToArray();
        }
        else if (typeof(JToken).IsAssignableFrom(typeof(T)))
        {
            result = Parse(Encoding.UTF8.GetString(content));
        }
        else
        {
            throw new NotSupportedException($"Body.As<{typeof(T).Name}>() is not supported: use string, byte[], JObject, JArray or JToken.");
        }

        return (T)result;
    }

    /// <summary>What <c>set-body</c> gets from a value: text as UTF-8, bytes as they are, JSON compact.</summary>
    public static byte[] ToBytes(object? value) => value switch
    {
        null => [],
        byte[] bytes => bytes,
        JToken token => Encoding.UTF8.GetBytes(token.ToString(Formatting.None)),
        string text => Encoding.UTF8.GetBytes(text),
        _ => Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty),
    };

    private static JToken Parse(string text)
    {
        try
        {
            return JToken.Parse(text);
        }
        catch (JsonReaderException ex)
        {
            throw new PolicyExecutionException("expression", "ExpressionValueEvaluationFailure", "The body is not JSON: " + ex.Message, ex);
        }
    }
}
