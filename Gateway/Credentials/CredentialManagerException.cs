namespace Gateway.Credentials;

/// <summary>A connection's token could not be handed out; <see cref="Reason"/> is one of <see cref="CredentialManager"/>'s reasons.</summary>
internal sealed class CredentialManagerException(string reason, string message) : Exception(message)
{
    public string Reason { get; } = reason;
}
