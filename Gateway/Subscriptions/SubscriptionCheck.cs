using Gateway.Pipeline;

namespace Gateway.Subscriptions;

/// <summary>The outcome of checking a request's subscription key.</summary>
internal enum SubscriptionCheckStatus
{
    Missing,
    Invalid,
    Valid,
}

/// <summary>A check's status and, when valid, the subscription.</summary>
internal readonly record struct SubscriptionCheck(SubscriptionCheckStatus Status, SubscriptionInfo? Subscription);
