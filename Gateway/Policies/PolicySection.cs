namespace Gateway.Policies;

/// <summary>The four sections of a policy document, in API Management's names.</summary>
internal enum PolicySection
{
    Inbound,
    Backend,
    Outbound,
    OnError,
}

internal static class PolicySectionNames
{
    public static string ToXmlName(this PolicySection section) => section switch
    {
        PolicySection.Inbound => "inbound",
        PolicySection.Backend => "backend",
        PolicySection.Outbound => "outbound",
        _ => "on-error",
    };

    public static bool TryParse(string name, out PolicySection section)
    {
        switch (name)
        {
            case "inbound": section = PolicySection.Inbound; return true;
            case "backend": section = PolicySection.Backend; return true;
            case "outbound": section = PolicySection.Outbound; return true;
            case "on-error": section = PolicySection.OnError; return true;
            default: section = default; return false;
        }
    }
}
