namespace Gateway.Identity;

/// <summary>
/// A token provider could not get a managed-identity token. <c>authentication-managed-identity</c> turns it into
/// API Management's error (<c>ManagedIdentityTokenFailure</c>, or nothing with <c>ignore-error</c>).
/// </summary>
internal sealed class ManagedIdentityTokenException(string message, Exception? innerException = null) : Exception(message, innerException);
