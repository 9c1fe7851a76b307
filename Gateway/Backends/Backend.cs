namespace Gateway.Backends;

/// <summary>A backend entity of type Single, with the URL this gateway uses for it.</summary>
internal sealed class Backend(string id, Uri url)
{
    public string Id { get; } = id;

    public BackendTarget Target { get; } = new(id, url);
}
