namespace Gateway.Forwarding;

/// <summary>The attributes of one <c>forward-request</c>.</summary>
internal sealed record ForwardOptions(TimeSpan Timeout, bool BufferRequestBody, bool BufferResponse);
