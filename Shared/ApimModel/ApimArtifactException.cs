namespace Gateway.Apim.Model;

/// <summary>An artefact in <c>apim/</c> is missing or wrong; the message names the file.</summary>
internal sealed class ApimArtifactException : Exception
{
    public ApimArtifactException(string path, string reason, Exception? inner = null)
        : base($"{path}: {reason}", inner)
    {
        FilePath = path;
    }

    public string FilePath { get; }
}
