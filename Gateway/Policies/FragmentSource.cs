using Gateway.Apim;

namespace Gateway.Policies;

/// <summary>Policy fragments: <c>fragments/{id}.xml</c> in the apim folder, named values substituted like any policy.</summary>
internal sealed class FragmentSource(string apimPath, NamedValues namedValues)
{
    public const string Folder = "fragments";

    public string PathOf(string id) => Path.Combine(apimPath, Folder, id + ".xml");

    /// <summary>The fragment's file and text, or null when it does not exist.</summary>
    /// <exception cref="PolicyLoadException">The fragment uses a named value that has no value.</exception>
    public (string Path, string Text)? Read(string id)
    {
        if (id.IndexOfAny(['/', '\\', '.']) >= 0)
        {
            return null;
        }

        var path = PathOf(id);
        return File.Exists(path) ? (path, namedValues.Substitute(File.ReadAllText(path), path)) : null;
    }
}
