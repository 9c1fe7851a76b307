namespace Gateway.Policies;

/// <summary>
/// A policy failed at run time. The runner adds where (scope, section, path, policy id) and sends the request to
/// <c>on-error</c> with these values in <c>context.LastError</c>.
/// </summary>
internal sealed class PolicyExecutionException : Exception
{
    public PolicyExecutionException(string source, string reason, string message, Exception? inner = null)
        : base(message, inner)
    {
        Source = source;
        Reason = reason;
    }

    /// <summary>The element (or built-in step) that failed, as <c>context.LastError.Source</c> reports it.</summary>
    public new string Source { get; }

    public string Reason { get; }

    /// <summary>Filled in by the innermost element that saw the error.</summary>
    public LastError? Error { get; set; }

    /// <summary>The response API Management sends for this error when on-error does not answer (otherwise its 500).</summary>
    public Pipeline.ResponseState? Response { get; init; }
}
