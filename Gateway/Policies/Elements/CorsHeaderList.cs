namespace Gateway.Policies.Elements;

/// <summary>The <c>allowed-headers</c> of a <c>cors</c> policy: header names compared without case, or <c>*</c> for any.</summary>
internal sealed class CorsHeaderList(IReadOnlyList<string> names)
{
    private readonly bool _any = names.Contains("*", StringComparer.Ordinal);

    public bool Allows(string header) => _any || names.Contains(header, StringComparer.OrdinalIgnoreCase);
}
