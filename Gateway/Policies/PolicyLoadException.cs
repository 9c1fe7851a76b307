namespace Gateway.Policies;

/// <summary>A policy document cannot be loaded; each problem reads <c>file(line,col): error CODE: message</c>.</summary>
internal sealed class PolicyLoadException : Exception
{
    public PolicyLoadException(IReadOnlyList<string> problems)
        : base(string.Join(Environment.NewLine, problems))
    {
        Problems = problems;
    }

    public IReadOnlyList<string> Problems { get; }
}
