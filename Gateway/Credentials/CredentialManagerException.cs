namespace Gateway.Credentials;

/// <summary>
/// A connection's token could not be handed out; <see cref="Reason"/> is <see cref="Policies.ErrorReasons.ConnectionNotFound"/>,
/// <see cref="Policies.ErrorReasons.ConnectionError"/> or <see cref="Policies.ErrorReasons.PermissionDenied"/>.
/// </summary>
internal sealed class CredentialManagerException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
