namespace Gateway.Telemetry;

/// <summary>
/// The event id of every log event the gateway writes, in one place so that each is unique (LogEventsTests checks):
/// a hundred ids per area. A new event takes the next free id of its area.
/// </summary>
internal static class LogEvents
{
    // 1xx: starting up, and loading the API Management artefacts.
    public const int ArtifactsLoaded = 100;
    public const int StartupFailed = 101;
    public const int SubscriptionWithoutKeys = 102;
    public const int IdentityProviderChosen = 103;
    public const int ArtifactsReloaded = 110;
    public const int ArtifactsReloadFailed = 111;
    public const int ArtifactsReloadCrashed = 112;

    // 2xx: the request pipeline.
    public const int PolicyFailed = 200;
    public const int OnErrorFailed = 201;
    public const int ResponseStreamFailed = 202;

    // 3xx: policy elements that write logs.
    public const int PolicyTrace = 300;
    public const int EventHubMessage = 301;

    // 4xx: forwarding and outgoing requests.
    public const int OneWayRequestSent = 400;
    public const int OneWayRequestFailed = 401;
    public const int OneWayRequestDropped = 402;

    // 5xx: backends, pools and circuit breakers.
    public const int CircuitBreakerTripped = 500;
    public const int SessionRepinned = 501;

    // 6xx: identity: managed-identity tokens, OpenID configuration, the local Entra tenant.
    public const int AzureTokenAcquired = 600;
    public const int AzureTokenFailed = 601;
    public const int OpenIdConfigurationFetched = 610;
    public const int OpenIdConfigurationFetchFailed = 611;
    public const int LocalEntraEnabled = 620;
    public const int LocalEntraDisabled = 621;
    public const int LocalTokenMinted = 622;

    // 7xx: the admin endpoints.
    public const int AdminEnabled = 700;
    public const int AdminDisabled = 701;
    public const int AdminReset = 702;
    public const int AdminKeyRefused = 703;
    public const int PageSignedIn = 704;
    public const int PageSignInRefused = 705;
    public const int PageSignInThrottled = 706;
    public const int PageSignedOut = 707;
    public const int PageCrossSite = 708;
}
