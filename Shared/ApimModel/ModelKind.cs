namespace Gateway.Apim.Model;

/// <summary>Which inference operation a deployed model takes (<see cref="ModelKinds.Of"/>).</summary>
internal enum ModelKind
{
    /// <summary>Chat completions (and the Responses API): every model that is neither of the others.</summary>
    Chat,

    /// <summary>Text completions: the instruct and base models.</summary>
    Completions,

    /// <summary>Embeddings.</summary>
    Embeddings,
}
