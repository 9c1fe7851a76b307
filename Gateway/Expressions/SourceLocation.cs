namespace Gateway.Expressions;

/// <summary>A position in a policy file (1-based line and column), printed the way compilers print them.</summary>
internal readonly record struct SourceLocation(string File, int Line, int Column)
{
    public override string ToString() => $"{File}({Line},{Column})";
}
