namespace Gateway.Policies;

/// <summary>The codes of problems found while loading a policy (C# compiler errors keep their own CS codes).</summary>
internal static class PolicyDiagnostics
{
    public const string MissingNamedValue = "APIM0001";
    public const string MalformedXml = "APIM0002";
    public const string UnknownElement = "APIM0003";
    public const string InvalidElement = "APIM0004";

    /// <summary>APIM0005, a type API Management does not allow in expressions, is <c>AllowedTypes.DiagnosticId</c>.</summary>
    public const string UnknownOperation = "APIM0006";
}
