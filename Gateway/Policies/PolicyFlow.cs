namespace Gateway.Policies;

/// <summary>Whether the pipeline goes on after an element, or a <c>return-response</c> ended it.</summary>
internal enum PolicyFlow
{
    Continue,
    Return,
}
