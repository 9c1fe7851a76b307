namespace Gateway.Forwarding;

/// <summary>
/// A request a policy sends besides the forwarded one (<c>send-request</c>, <c>send-one-way-request</c>), with every value
/// already evaluated: nothing in it refers to the request being served, so it may outlive it.
/// </summary>
/// <param name="Url">An absolute http(s) URL.</param>
/// <param name="Method">The method, upper case.</param>
/// <param name="Headers">Request and content headers; never <c>Content-Length</c> or <c>Transfer-Encoding</c>, which the client frames.</param>
/// <param name="Body">The body; null for none.</param>
/// <param name="Identity">The managed identity to authenticate with, if any.</param>
/// <param name="Timeout">How long the call may take in all, on the gateway's clock.</param>
internal sealed record PreparedRequest(Uri Url, string Method, IReadOnlyDictionary<string, string[]> Headers, byte[]? Body, ManagedIdentityLogin? Identity, TimeSpan Timeout)
{
    /// <summary>Where the request goes, without path or query (which may carry secrets): for messages and logs.</summary>
    public string Destination => Url.GetLeftPart(UriPartial.Authority);
}
