using System.Text;
using System.Xml.Linq;
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

    /// <summary>
    /// A declared length up to this is read straight into an array of that size; a larger or undeclared one grows with
    /// the bytes that come, so a client cannot make the gateway hold a large buffer by declaring a length it never sends.
    /// </summary>
    private const int ExactReadLimit = 64 * 1024;

    public static async Task<MessageBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is { } declared and <= ExactReadLimit)
        {
            var content = new byte[declared];
            var read = await request.Body.ReadAtLeastAsync(content, content.Length, throwOnEndOfStream: false, cancellationToken);

            // A body that ends short of its declared length is held as it came, as the copy below would hold it.
            return new MessageBody { _content = read == content.Length ? content : content[..read] };
        }

        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        return new MessageBody { _content = buffer.ToArray() };
    }

    public void Replace(byte[] content) => _content = content;

    /// <summary>
    /// The held bytes to read as a stream, without a copy: the content is replaced (<see cref="Replace"/>), never changed
    /// in place, so a stream opened for one forward keeps reading what it was opened on.
    /// </summary>
    public MemoryStream OpenRead() => new(_content ?? [], writable: false);

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

    public IDictionary<string, IList<string>> AsFormUrlEncodedContent(bool preserveContent = false) => ReadForm(As<byte[]>(preserveContent));

    /// <summary>A body's bytes as <c>string</c>, <c>byte[]</c>, a JSON token or an XML node, as <c>Body.As&lt;T&gt;()</c> gives them.</summary>
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
        else if (typeof(T) == typeof(XDocument))
        {
            result = ParseXml(content);
        }
        else if (typeof(T) == typeof(XElement) || typeof(T) == typeof(XNode))
        {
            // XNode gives the root element, as Microsoft's policy toolkit's emulator reads it (XNode.ReadFrom at the content).
            result = ParseXml(content).Root!;
        }
        else
        {
            throw new NotSupportedException($"Body.As<{typeof(T).Name}>() is not supported: use string, byte[], JObject, JArray, JToken, XNode, XElement or XDocument.");
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

    /// <summary>
    /// <c>Body.AsFormUrlEncodedContent()</c>: <c>name=value</c> pairs split on <c>&amp;</c>, names and values decoded
    /// (<c>+</c> as a space), a name without <c>=</c> given an empty value, repeated names keeping every value in order.
    /// </summary>
    public static IDictionary<string, IList<string>> ReadForm(byte[] content)
    {
        var form = new Dictionary<string, IList<string>>(StringComparer.Ordinal);
        foreach (var pair in Encoding.UTF8.GetString(content).Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var separator = pair.IndexOf('=', StringComparison.Ordinal);
            var name = System.Net.WebUtility.UrlDecode(separator < 0 ? pair : pair[..separator]);
            var value = separator < 0 ? string.Empty : System.Net.WebUtility.UrlDecode(pair[(separator + 1)..]);
            if (!form.TryGetValue(name, out var values))
            {
                form[name] = values = [];
            }

            values.Add(value);
        }

        return form;
    }

    private static XDocument ParseXml(byte[] content)
    {
        try
        {
            // XDocument.Load over a stream honours the byte order mark and the declared encoding; no DTDs are processed.
            using var stream = new MemoryStream(content, writable: false);
            using var reader = System.Xml.XmlReader.Create(stream, new System.Xml.XmlReaderSettings { DtdProcessing = System.Xml.DtdProcessing.Prohibit, XmlResolver = null });
            return XDocument.Load(reader);
        }
        catch (System.Xml.XmlException ex)
        {
            throw new PolicyExecutionException("expression", ErrorReasons.ExpressionValueEvaluationFailure, "The body is not XML: " + ex.Message, ex);
        }
    }

    private static JToken Parse(string text)
    {
        try
        {
            return JToken.Parse(text);
        }
        catch (JsonReaderException ex)
        {
            throw new PolicyExecutionException("expression", ErrorReasons.ExpressionValueEvaluationFailure, "The body is not JSON: " + ex.Message, ex);
        }
    }
}
