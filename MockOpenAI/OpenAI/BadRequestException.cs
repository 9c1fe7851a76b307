namespace MockOpenAI.OpenAI;

/// <summary>The request is malformed: Azure OpenAI answers 400 with the offending parameter.</summary>
internal sealed class BadRequestException(string message, string? param) : Exception(message)
{
    public string? Param { get; } = param;

    /// <summary>
    /// Whether the message is the service's own wording (sources in docs/fidelity.md), answered in the shape the
    /// service answers it in (<see cref="AzureErrors.InvalidRequest"/>) with <see cref="Code"/>.
    /// </summary>
    public bool Exact { get; private init; }

    /// <summary>The error code of an <see cref="Exact"/> error: often null, as the service sends it.</summary>
    public string? Code { get; private init; }

    /// <summary>An error the service words exactly so, with its code.</summary>
    public static BadRequestException Worded(string message, string? param, string? code) => new(message, param) { Exact = true, Code = code };
}
