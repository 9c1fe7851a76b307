namespace Gateway.Admin;

/// <summary>An admin endpoint's error body, shaped as API Management's own (<c>{"statusCode": 401, "message": "..."}</c>).</summary>
internal sealed record AdminError(int StatusCode, string Message);
