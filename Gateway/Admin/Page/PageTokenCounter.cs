namespace Gateway.Admin.Page;

/// <summary>A token-limit counter key: which limit (<c>tokens-per-minute</c> or <c>token-quota</c>), the tokens used and the limit.</summary>
internal sealed record PageTokenCounter(string Limit, string Key, long Used, long Max);
