namespace Gateway.Admin.Page;

/// <summary>The page's files, embedded in this assembly (<c>Admin/Page/Assets/</c>), read once.</summary>
internal static class PageAssets
{
    private const string Prefix = "gateway-page/";

    private static readonly Dictionary<string, Asset> Files = new(StringComparer.Ordinal)
    {
        ["page.css"] = Load("page.css", "text/css; charset=utf-8"),
        ["page.js"] = Load("page.js", "text/javascript; charset=utf-8"),
    };

    /// <summary>The sign-in form; <c>{{message}}</c> stands where an HTML-encoded message goes.</summary>
    public static string Login { get; } = Text("login.html");

    public static string Page { get; } = Text("index.html");

    public static Asset? Find(string name) => Files.GetValueOrDefault(name);

    private static Asset Load(string name, string contentType)
    {
        using var stream = typeof(PageAssets).Assembly.GetManifestResourceStream(Prefix + name)
            ?? throw new InvalidOperationException($"The gateway page's {name} is not embedded in the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return new Asset(copy.ToArray(), contentType);
    }

    private static string Text(string name) => System.Text.Encoding.UTF8.GetString(Load(name, string.Empty).Content);

    internal sealed record Asset(byte[] Content, string ContentType);
}
