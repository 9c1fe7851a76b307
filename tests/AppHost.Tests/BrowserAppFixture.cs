namespace AppHost.Tests;

/// <summary>
/// The whole app as <see cref="LoadBalancedAppFixture"/> starts it, with the Aspire dashboard running too, so that a
/// browser can open both the gateway page and the dashboard (<see cref="BrowserTests"/>).
/// </summary>
public sealed class BrowserAppFixture : LoadBalancedAppFixture
{
    protected override bool RunsDashboard => true;
}
