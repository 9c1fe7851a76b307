namespace MockOpenAI.Quota;

/// <summary>Which limit refused a request.</summary>
internal enum QuotaLimit
{
    None,
    Tokens,
    Requests,
}

/// <summary>
/// The outcome of asking a deployment's quota to admit a request, with what the <c>x-ratelimit-*</c> headers report.
/// </summary>
internal sealed record QuotaDecision(
    QuotaLimit RefusedBy,
    TimeSpan RetryAfter,
    int LimitRequests,
    int LimitTokens,
    int RemainingRequests,
    int RemainingTokens,
    TimeSpan ResetRequests,
    TimeSpan ResetTokens)
{
    public bool Admitted => RefusedBy == QuotaLimit.None;
}
