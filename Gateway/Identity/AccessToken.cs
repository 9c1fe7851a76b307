namespace Gateway.Identity;

/// <summary>A bearer token and when it expires.</summary>
internal readonly record struct AccessToken(string Token, DateTimeOffset ExpiresOn);
