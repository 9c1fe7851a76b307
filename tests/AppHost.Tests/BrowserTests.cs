using System.ClientModel;
using Aspire.Hosting.Testing;
using Azure.AI.OpenAI;
using Microsoft.Playwright;
using OpenAI.Chat;

namespace AppHost.Tests;

/// <summary>
/// The README's walkthrough in a real headless Chromium against the whole Aspire app, dashboard included. The gateway
/// page (<c>/_gateway/ui/</c>): the dashboard links it from the gateway's resource, the sign-in form takes the admin key,
/// and when the priority-1 account of the gpt-4o pool throttles (the dashboard's <c>mock-throttle</c> command), the page
/// shows that member tripped, without a reload. The dashboard: its resources page lists the gateway, the mock accounts and
/// the traffic generator, and its GenAI view shows the gateway's spans of a chat call. Screenshots go to
/// <see cref="ArtifactsFolder"/> (and, with <c>REFRESH_DOCS_IMAGES=1</c>, to <c>docs/images/</c>). The browser is the
/// system's Chromium (<see cref="ChromiumPath"/>; <c>.ci/run</c> installs it), never one Playwright downloads.
/// </summary>
[Collection(AspireAppGroup.Name)]
public sealed class BrowserTests(BrowserAppFixture app) : IClassFixture<BrowserAppFixture>
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>Set to 1 to copy the screenshots over the README's (<c>docs/images/</c>); CI never sets it.</summary>
    public const string RefreshDocsImages = "REFRESH_DOCS_IMAGES";

    private const string PriorityOneAccount = "aoai-eastus2";
    private const string PriorityOneBackend = "aoai-eastus2-gpt-4o";
    private const string PagePath = "/_gateway/ui/";
    private static readonly string[] PriorityTwoBackends = ["aoai-swedencentral-gpt-4o", "aoai-japaneast-gpt-4o"];
    private static readonly TimeSpan Timeout = LoadBalancedAppFixture.Timeout;

    /// <summary>The screenshots the README shows (docs/images/).</summary>
    private static readonly string[] DocsImages = ["gateway-page.png", "gateway-page-tripped.png", "dashboard-resources.png", "dashboard-genai.png"];

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>Where the screenshots are saved: under the test output, so a run never changes the clone.</summary>
    public static string ArtifactsFolder { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots");

    [SkippableFact]
    public async Task GatewayPage_PriorityOneThrottles_ShowsItsBackendTrippedWithoutAReload()
    {
        Skip.If(app.IsDeployed, "drives the local AppHost's gateway page and mocks");
        Skip.IfNot(File.Exists(ChromiumPath), $"no Chromium at {ChromiumPath} (Debian's package 'chromium'; .ci/run installs it)");
        using var cancellation = new CancellationTokenSource(Timeout);

        // The dashboard links the page from the gateway's resource.
        await app.App.ResourceNotifications.WaitForResourceAsync(
            "gateway",
            e => e.Snapshot.Urls.Any(u => u.Url.EndsWith(PagePath, StringComparison.Ordinal)),
            cancellation.Token);

        using var playwright = await Playwright.CreateAsync().WaitAsync(Timeout);
        await using (var browser = await LaunchChromiumAsync(playwright))
        {
            var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 900 } }).WaitAsync(Timeout);
            page.SetDefaultTimeout((float)Timeout.TotalMilliseconds);

            // Not signed in: the page sends the browser to the form; the key goes in the form's body, never in a URL.
            await page.GotoAsync(new Uri(app.GatewayUrl, PagePath).ToString()).WaitAsync(Timeout);
            Assert.EndsWith("/_gateway/ui/login", page.Url, StringComparison.Ordinal);
            await page.Locator("#key").FillAsync(LoadBalancedAppFixture.AdminKey).WaitAsync(Timeout);
            await page.Locator("button[type=submit]").ClickAsync().WaitAsync(Timeout);
            await page.WaitForURLAsync(u => u.EndsWith(PagePath, StringComparison.Ordinal)).WaitAsync(Timeout);
            Assert.DoesNotContain(LoadBalancedAppFixture.AdminKey, page.Url, StringComparison.Ordinal);

            var breaker = page.Locator($"tr[data-backend=\"{PriorityOneBackend}\"] .state");
            await page.Locator($"tr[data-backend=\"{PriorityOneBackend}\"] .state[data-state=closed]").WaitForAsync().WaitAsync(Timeout);

            // Some traffic first, so the pool and the traffic columns have something to show.
            var chat = new AzureOpenAIClient(app.GatewayUrl, new ApiKeyCredential(app.Key)).GetChatClient("gpt-4o");
            for (var i = 0; i < 3; i++)
            {
                await chat.CompleteChatAsync([new UserChatMessage($"Hello {i}")], cancellationToken: cancellation.Token);
            }

            await page.Locator($"tr[data-backend=\"{PriorityOneBackend}\"] .requests").Filter(new() { HasNotText = "0" }).WaitForAsync().WaitAsync(Timeout);
            await ScreenshotAsync(page, "gateway-page.png");

            // The dashboard's throttle button on the priority-1 account: a minute of 429s with Retry-After 60.
            var throttled = await DashboardCommands.RunAsync(app.App, PriorityOneAccount, "mock-throttle", cancellation.Token, ("seconds", "60"), ("retryAfter", "60"), ("deployment", "gpt-4o"));
            Assert.True(throttled.Success, throttled.Message);
            try
            {
                // The call itself succeeds: the gateway's retry goes to a priority-2 member once the breaker trips.
                await chat.CompleteChatAsync([new UserChatMessage("Hello while throttled")], cancellationToken: cancellation.Token);

                // No reload: the page's own polling shows the trip, with its cause.
                await page.Locator($"tr[data-backend=\"{PriorityOneBackend}\"] .state[data-state=open]").WaitForAsync().WaitAsync(Timeout);
                Assert.Contains("tripped until", await breaker.InnerTextAsync().WaitAsync(Timeout), StringComparison.Ordinal);
                Assert.Contains("status 429", await page.Locator($"tr[data-backend=\"{PriorityOneBackend}\"] .why").InnerTextAsync().WaitAsync(Timeout), StringComparison.Ordinal);

                // A poll may show the trip before the retry's answer from a priority-2 member is counted: wait for that too.
                await page.Locator(string.Join(", ", PriorityTwoBackends.Select(b => $"tr[data-backend=\"{b}\"] .requests"))).Filter(new() { HasNotText = "0" }).First.WaitForAsync().WaitAsync(Timeout);
                await ScreenshotAsync(page, "gateway-page-tripped.png");

                // The state behind the screenshot, read with the page's own cookie, kept next to it for whoever looks at a failure.
                var state = await page.EvaluateAsync<string>("async () => await (await fetch('/_gateway/ui/state', { cache: 'no-store' })).text()").WaitAsync(Timeout);
                await File.WriteAllTextAsync(Path.Combine(ArtifactsFolder, "state-tripped.json"), state, cancellation.Token);
                Assert.DoesNotContain(LoadBalancedAppFixture.ChatAppKey, state, StringComparison.Ordinal);
            }
            finally
            {
                await DashboardCommands.RunAsync(app.App, PriorityOneAccount, "mock-recover", CancellationToken.None);
                await DashboardCommands.RunAsync(app.App, "gateway", "gateway-reset", CancellationToken.None, ("scope", "breakers"));
            }
        }

        CopyToDocsWhenAsked();
    }

    [SkippableFact]
    public async Task Dashboard_AfterChatCalls_ListsTheResourcesAndShowsTheGatewaysGenAISpans()
    {
        Skip.If(app.IsDeployed, "opens the local AppHost's dashboard");
        Skip.IfNot(File.Exists(ChromiumPath), $"no Chromium at {ChromiumPath} (Debian's package 'chromium'; .ci/run installs it)");
        using var cancellation = new CancellationTokenSource(Timeout);

        // The login URL holds the dashboard's browser token: it is opened, never written anywhere.
        var login = await app.App.GetDashboardUrlAsync(cancellation.Token);
        var dashboard = new Uri(login.GetLeftPart(UriPartial.Authority));

        // A few chat calls, so that the gateway and the account that answered have GenAI spans.
        var chat = new AzureOpenAIClient(app.GatewayUrl, new ApiKeyCredential(app.Key)).GetChatClient("gpt-4o");
        for (var i = 0; i < 3; i++)
        {
            await chat.CompleteChatAsync([new UserChatMessage($"What does a circuit breaker do? ({i})")], cancellationToken: cancellation.Token);
        }

        using var playwright = await Playwright.CreateAsync().WaitAsync(Timeout);
        await using var browser = await LaunchChromiumAsync(playwright);
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1400, Height = 800 } }).WaitAsync(Timeout);
        page.SetDefaultTimeout((float)Timeout.TotalMilliseconds);
        try
        {
            await page.GotoAsync(login.ToString()).WaitAsync(Timeout);
        }
        catch (PlaywrightException)
        {
            // Playwright's message would quote the URL, token and all.
            throw new InvalidOperationException($"The dashboard's login page at {dashboard} did not open.");
        }

        // The resources page: every resource of the topology, and the traffic generator waiting for its start button.
        foreach (var resource in new[] { "gateway", PriorityOneAccount, "aoai-swedencentral", "aoai-japaneast", "traffic" })
        {
            await page.Locator($"[aria-label=\"Project: {resource}\"]").WaitForAsync().WaitAsync(Timeout);
        }

        await DismissCertificateWarningAsync(page);
        await ScreenshotAsync(page, "dashboard-resources.png");

        // The traces page marks a trace with GenAI spans with a "GenAI details" button (the spans arrive over OTLP in
        // batches, so it may take a few seconds); the dialog opens on the trace's first GenAI span: the gateway's try.
        await page.GotoAsync(new Uri(dashboard, "/traces").ToString()).WaitAsync(Timeout);
        var genAI = page.Locator("fluent-button[aria-label=\"GenAI details\"]").First;
        // The visualizer's own markers: its tab "Input & output" and the span's title, "resource: span name".
        var dialog = page.GetByText("Input & output", new() { Exact = true });
        try
        {
            await genAI.ClickAsync().WaitAsync(Timeout);
            await dialog.WaitForAsync().WaitAsync(Timeout);
        }
        catch (TimeoutException)
        {
            await ScreenshotAsync(page, "dashboard-failed.png", fullPage: false);
            throw;
        }

        await DismissCertificateWarningAsync(page);
        await ScreenshotAsync(page, "dashboard-genai.png", fullPage: false);
        await page.GetByText("gateway: chat gpt-4o").First.WaitForAsync().WaitAsync(Timeout);

        // Its details: the GenAI conventions' attributes the gateway set, with the provider and the model that answered.
        await page.GetByText("Details", new() { Exact = true }).First.ClickAsync().WaitAsync(Timeout);
        await page.GetByText("gen_ai.provider.name").First.WaitForAsync().WaitAsync(Timeout);
        var details = await page.Locator("body").InnerTextAsync().WaitAsync(Timeout);
        Assert.Contains("azure.ai.openai", details, StringComparison.Ordinal);
        Assert.Contains("gen_ai.response.model", details, StringComparison.Ordinal);
        Assert.Contains("gpt-5.1", details, StringComparison.Ordinal);
        Assert.Contains("apim.backend.id", details, StringComparison.Ordinal);

        CopyToDocsWhenAsked();
    }

    private static async Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        try
        {
            Directory.CreateDirectory(ArtifactsFolder);
            return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs }).WaitAsync(Timeout);
        }
        catch (PlaywrightException ex)
        {
            Skip.If(true, $"Chromium at {ChromiumPath} does not start here: {ex.Message}");
            throw;
        }
    }

    /// <summary>
    /// Closes the dashboard's "No trusted development certificate" bar, when it shows: the app runs over http and needs
    /// no certificate, and the bar would only cover the screenshots.
    /// </summary>
    private static async Task DismissCertificateWarningAsync(IPage page)
    {
        var bar = page.Locator(".dashboard-message-bar").Filter(new() { HasText = "No trusted development certificate" });
        if (await bar.CountAsync().WaitAsync(Timeout) > 0)
        {
            await bar.First.Locator(".dashboard-message-bar-dismiss").ClickAsync().WaitAsync(Timeout);
            await bar.WaitForAsync(new() { State = WaitForSelectorState.Detached }).WaitAsync(Timeout);
        }
    }

    private static async Task ScreenshotAsync(IPage page, string name, bool fullPage = true) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ArtifactsFolder, name), FullPage = fullPage }).WaitAsync(Timeout);

    private static void CopyToDocsWhenAsked()
    {
        if (Environment.GetEnvironmentVariable(RefreshDocsImages) != "1")
        {
            return;
        }

        var images = Path.Combine(LoadBalancedAppFixture.RepoRoot, "docs", "images");
        Directory.CreateDirectory(images);
        // Only the README's images: a failure's screenshot stays in the test output.
        foreach (var name in DocsImages.Where(name => File.Exists(Path.Combine(ArtifactsFolder, name))))
        {
            File.Copy(Path.Combine(ArtifactsFolder, name), Path.Combine(images, name), overwrite: true);
        }
    }
}
