using System.Net;
using Gateway.Tests.Support;
using Microsoft.AspNetCore.Http;

namespace Gateway.Tests.Policies.Elements;

/// <summary><c>forward-request</c>'s error-status, redirect, HTTP version and expression timeout attributes.</summary>
public sealed class ForwardRequestOptionsTests : IAsyncLifetime, IDisposable
{
    private readonly TestApim _apim = new();
    private RecordingBackend _backend = null!;
    private GatewayFactory? _factory;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    public void Dispose()
    {
        _factory?.Dispose();
        _apim.Dispose();
    }

    [Fact]
    [Covers("forward-request", "fail-on-error-status-code")]
    public async Task FailOnErrorStatusCode_True_SendsA4xxOr5xxToOnErrorWithTheBackendResponse()
    {
        WritePolicy("""fail-on-error-status-code="true" """);
        _backend.Statuses.Enqueue(503);
        _backend.Statuses.Enqueue(429);
        _backend.Statuses.Enqueue(399);

        using var unavailable = await SendAsync();
        using var throttled = await SendAsync();
        using var below = await SendAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal("forward-request BackendResponseStatusCode 503", unavailable.Headers.GetValues("x-error").Single());
        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        Assert.Equal("forward-request BackendResponseStatusCode 429", throttled.Headers.GetValues("x-error").Single());
        Assert.Equal("""{"ok":true}""", await throttled.Content.ReadAsStringAsync());

        // 399 is not an error status: outbound runs, on-error does not.
        Assert.Equal((HttpStatusCode)399, below.StatusCode);
        Assert.False(below.Headers.Contains("x-error"));
        Assert.Equal("ran", below.Headers.GetValues("x-outbound").Single());
    }

    [Fact]
    [Covers("forward-request", "fail-on-error-status-code")]
    public async Task FailOnErrorStatusCode_Default_LetsErrorStatusesThroughOutbound()
    {
        WritePolicy(string.Empty);
        _backend.Statuses.Enqueue(500);

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("ran", response.Headers.GetValues("x-outbound").Single());
        Assert.False(response.Headers.Contains("x-error"));
    }

    [Fact]
    [Covers("forward-request", "follow-redirects")]
    public async Task FollowRedirects_Default_ReturnsTheRedirectToTheCaller()
    {
        WritePolicy(string.Empty);
        _backend.Statuses.Enqueue(302);

        using var response = await SendAsync(allowRedirect: false);

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal(_backend.Url + "/redirected?api-version=2024-10-21", response.Headers.Location!.ToString());
        Assert.Single(_backend.Requests);
    }

    [Fact]
    [Covers("forward-request", "follow-redirects")]
    public async Task FollowRedirects_True_TheGatewayFollowsAndTheCallerGetsTheFinalResponse()
    {
        WritePolicy("""follow-redirects="true" """);
        _backend.Statuses.Enqueue(302);

        using var response = await SendAsync(allowRedirect: false);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, _backend.Requests.Count);
        var followed = _backend.Requests.Last();
        Assert.Equal("/redirected?api-version=2024-10-21", followed.PathAndQuery);

        // As HTTP clients do for 302, the POST becomes a GET.
        Assert.Equal("GET", followed.Method);
    }

    [Fact]
    [Covers("forward-request", "follow-redirects")]
    public async Task FollowRedirects_AcceptsAnExpression()
    {
        WritePolicy("""follow-redirects="@(context.Request.Headers.GetValueOrDefault("x-follow", "false"))" """);
        _backend.Statuses.Enqueue(303);
        using var followed = await SendAsync(("x-follow", "true"));
        _backend.Statuses.Enqueue(303);
        using var returned = await SendAsync(("x-follow", "false"));

        Assert.Equal(HttpStatusCode.OK, followed.StatusCode);
        Assert.Equal(HttpStatusCode.SeeOther, returned.StatusCode);
        Assert.Equal(3, _backend.Requests.Count);
    }

    [Fact]
    [Covers("forward-request", "follow-redirects")]
    public async Task FollowRedirects_307WithABody_IsABackendFailureNotAnEmptyResend()
    {
        WritePolicy("""follow-redirects="true" """);
        _backend.Statuses.Enqueue(307);

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.StartsWith("forward-request ", response.Headers.GetValues("x-error").Single(), StringComparison.Ordinal);
        Assert.Single(_backend.Requests);
    }

    [Theory]
    [InlineData("""http-version="1" """)]
    [InlineData("")]
    [InlineData("""http-version="2or1" """)]
    [Covers("forward-request", "http-version")]
    public async Task HttpVersion_OneOrTwoOrOne_ReachesAnHttp1Backend(string attribute)
    {
        WritePolicy(attribute);

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("HTTP/1.1", Assert.Single(_backend.Requests).Protocol);
    }

    [Fact]
    [Covers("forward-request", "http-version")]
    public async Task HttpVersion_Two_CannotTalkToAnHttp1OnlyBackend()
    {
        WritePolicy("""http-version="2" """);

        using var response = await SendAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.Equal("forward-request BackendConnectionFailure 500", response.Headers.GetValues("x-error").Single());
        Assert.Empty(_backend.Requests);
    }

    [Fact]
    [Covers("forward-request", "timeout")]
    public async Task Timeout_AcceptsAnExpression()
    {
        WritePolicy("""timeout="@(context.Request.Headers.GetValueOrDefault("x-timeout", "300"))" """);
        using var release = new CancellationTokenSource();
        _backend.Answer = async http =>
        {
            // No headers until the test ends: only the timeout can end the wait.
            await Task.Delay(Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            await http.Response.WriteAsync("{}");
        };

        using var response = await SendAsync(("x-timeout", "1"));
        await release.CancelAsync();

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        Assert.StartsWith("forward-request Timeout", response.Headers.GetValues("x-error").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""http-version="3" """, "(4,6): error APIM0004: attribute 'http-version' of <forward-request> must be 1, 2or1 or 2, not '3'")]
    [InlineData("""timeout="soon" """, "(4,6): error APIM0004: attribute 'timeout' of <forward-request> must be a whole number of at least 0, not 'soon'")]
    [InlineData("""continue-timeout="5" """, "(4,6): error APIM0004: continue-timeout=\"5\" on <forward-request> is not supported by this gateway (Expect: 100-continue is not sent to backends)")]
    public void InvalidAttributes_FailTheLoad(string attribute, string expected)
    {
        WritePolicy(attribute);

        var ex = Assert.Throws<Gateway.Policies.PolicyLoadException>(() => Gateway.Apim.GatewayArtifacts.Load(_apim.Options()));

        Assert.Equal(_apim.PolicyPath + expected, Assert.Single(ex.Problems));
    }

    private void WritePolicy(string attributes) => File.WriteAllText(_apim.PolicyPath, $$"""
        <policies>
          <inbound><set-backend-service base-url="{{_backend.Url}}/openai" /></inbound>
          <backend>
            <forward-request {{attributes}}/>
          </backend>
          <outbound><set-header name="x-outbound" exists-action="override"><value>ran</value></set-header></outbound>
          <on-error>
            <set-header name="x-error" exists-action="override">
              <value>@(context.LastError.Source + " " + context.LastError.Reason + " " + (context.Response == null ? "" : context.Response.StatusCode.ToString()))</value>
            </set-header>
          </on-error>
        </policies>
        """);

    private async Task<HttpResponseMessage> SendAsync(params (string Name, string Value)[] headers) => await SendAsync(allowRedirect: false, headers);

    private async Task<HttpResponseMessage> SendAsync(bool allowRedirect, params (string Name, string Value)[] headers)
    {
        _factory ??= new GatewayFactory(_apim, _backend.Url);
        var client = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = allowRedirect });
        return await client.PostChatAsync(body: """{"messages":[]}""", headers: headers);
    }
}
