namespace MockOpenAI.Tests.Support;

/// <summary>The corpus policy file (under <c>EndToEnd/Corpus/</c>) a test loads and runs.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
internal sealed class PolicyFileAttribute(string file) : Attribute
{
    public string File { get; } = file;
}
