using System.Diagnostics;
using System.Runtime.CompilerServices;
using Gateway.Apim;
using Gateway.Policies;
using Gateway.Subscriptions;
using Gateway.Telemetry;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace Gateway.Pipeline;

/// <summary>
/// One request through the gateway: match the API operation (a CORS preflight is answered there, by the cors policies
/// alone), check the subscription key, then run the policy's inbound, backend and outbound sections (on-error when any
/// of them fails) and send the response they settled on.
/// </summary>
internal sealed partial class GatewayHandler(ArtifactsProvider provider, GatewayServices services, ILogger<GatewayHandler> logger)
{
    private static readonly PolicySection[] Sections = [PolicySection.Inbound, PolicySection.Backend, PolicySection.Outbound];

    /// <summary>How far past the body limit an oversized upload is still read and discarded after its 413.</summary>
    private const int DrainFactor = 4;

    public async Task HandleAsync(HttpContext http)
    {
        // The version in force when the request arrives serves it to the end, whatever reloads meanwhile.
        var artifacts = provider.Current;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { MaxRequestBodySize: { } limit } size && http.Request.ContentLength > limit)
        {
            await RefuseOversizedBodyAsync(http, size, limit);
            return;
        }

        var match = artifacts.Router.Match(http.Request.Method, http.Request.Path);
        if (match is null && CorsPreflight.IsPreflight(http.Request, out var requestedMethod)
            && artifacts.Router.MatchPreflight(requestedMethod, http.Request.Path) is { } preflight
            && await AnswerPreflightAsync(http, artifacts, preflight))
        {
            return;
        }

        if (match is null)
        {
            await ResponseWriter.WriteAsync(http, ApimResponses.NotFound());
            return;
        }

        var api = match.Route.Entity;
        SubscriptionCheck check = new(SubscriptionCheckStatus.Valid, null);
        if (api.SubscriptionRequired)
        {
            check = artifacts.Subscriptions.Check(api, http.Request);
            if (check.Status != SubscriptionCheckStatus.Valid)
            {
                var realm = $"{http.Request.Scheme}://{http.Request.Host}/{api.Path}";
                await ResponseWriter.WriteAsync(http, ApimResponses.Unauthorized(check.Status == SubscriptionCheckStatus.Missing, realm, api.KeyNames.Header));
                return;
            }
        }

        var chain = match.Route.Policies.ChainFor(match.Operation.Id, check.Subscription?.Product?.Policy);
        using var context = new RequestContext(http, services, match.Route.Info, new OperationInfo(match.Operation), match.Parameters, check.Subscription, match.OperationPath);
        if (chain.UsesRequestBody)
        {
            try
            {
                context.RequestBody = await MessageBody.ReadAsync(http.Request, http.RequestAborted);
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                // A chunked body that grew past the limit.
                await ResponseWriter.WriteAsync(http, ApimResponses.PayloadTooLarge());
                return;
            }
            catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
            {
                // The body came slower than Kestrel:Limits:MinRequestBodyDataRate: Kestrel's own 408, after which it
                // closes the connection, as for headers that come too slowly; the client's failure, not an error here.
                http.Response.StatusCode = StatusCodes.Status408RequestTimeout;
                return;
            }
        }

        http.SetEndpoint(match.Route.TelemetryEndpoints[match.Operation]);
        // Only a recorded span keeps its tags (as in PolicyRunner): ASP.NET Core starts an activity for every request,
        // for its logging, even when no tracer listens.
        if (Activity.Current is { Recorded: true } activity)
        {
            activity.SetTag("apim.api.id", api.Id);
            activity.SetTag("apim.operation.id", match.Operation.Id);
            activity.SetTag("apim.subscription.name", check.Subscription?.Name);
        }

        try
        {
            await RunAsync(context, chain);
            context.Complete();
            var error = await ResponseWriter.WriteAsync(context);
            if (error != ForwarderError.None)
            {
                Log.StreamFailed(logger, context.RequestId, error);
            }
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // The client went away; there is nobody to answer.
        }
        finally
        {
            context.ResponseSent();
        }
    }

    /// <summary>
    /// A CORS preflight, for the operation of the requested method or else the path's first (an API's own OPTIONS
    /// operation would have matched first and run as any request). Only the cors policies run, before the subscription
    /// key is required: a browser sends none, though a valid key (in the query, where a browser can put it) still brings
    /// its product's policy, as API Management's product-scope cors needs. False when no cors applies, so the gateway
    /// answers as without a preflight.
    /// </summary>
    private async Task<bool> AnswerPreflightAsync(HttpContext http, GatewayArtifacts artifacts, ApiMatch match)
    {
        var api = match.Route.Entity;
        var check = api.SubscriptionRequired ? artifacts.Subscriptions.Check(api, http.Request) : new(SubscriptionCheckStatus.Missing, null);
        var subscription = check.Status == SubscriptionCheckStatus.Valid ? check.Subscription : null;
        var policies = CorsPreflight.PoliciesOf(match.Route.Policies.ChainFor(match.Operation.Id, subscription?.Product?.Policy));
        if (policies.Count == 0)
        {
            return false;
        }

        using var context = new RequestContext(http, services, match.Route.Info, new OperationInfo(match.Operation), match.Parameters, subscription, match.OperationPath);
        if (Activity.Current is { Recorded: true } activity)
        {
            activity.SetTag("apim.api.id", api.Id);
            activity.SetTag("apim.operation.id", match.Operation.Id);
            activity.SetTag("apim.cors.preflight", true);
        }

        ResponseState response;
        try
        {
            response = CorsPreflight.Answer(context, policies);
        }
        catch (PolicyExecutionException ex)
        {
            Log.PolicyFailed(logger, context.RequestId, ex.Source, ex.Reason, PolicySection.Inbound.ToXmlName(), "cors", ex.Message);
            response = ApimResponses.InternalServerError(context.RequestId);
        }

        await ResponseWriter.WriteAsync(http, response);
        return true;
    }

    /// <summary>
    /// A body whose declared length is over the limit gets its 413 before a byte of it is read, so a client that sent
    /// <c>Expect: 100-continue</c> never sends it. A client already sending it is let finish (up to
    /// <see cref="DrainFactor"/> times the limit, and within Kestrel's minimum data rate), the bytes discarded, so that it
    /// reads the 413 rather than a connection reset mid-upload; a larger body ends with the connection.
    /// </summary>
    private static async Task RefuseOversizedBodyAsync(HttpContext http, IHttpMaxRequestBodySizeFeature size, long limit)
    {
        await ResponseWriter.WriteAsync(http, ApimResponses.PayloadTooLarge());
        await http.Response.CompleteAsync();
        if (http.Request.Headers.Expect.Any(e => string.Equals(e, "100-continue", StringComparison.OrdinalIgnoreCase))
            || http.Request.ContentLength > limit * DrainFactor || size.IsReadOnly)
        {
            return;
        }

        size.MaxRequestBodySize = limit * DrainFactor;
        try
        {
            await http.Request.Body.CopyToAsync(Stream.Null, http.RequestAborted);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or BadHttpRequestException)
        {
            // The client went away or sent too slowly: the connection closes, which is all a drain can come to.
        }
    }

    private async Task RunAsync(RequestContext context, PolicyChain chain)
    {
        try
        {
            foreach (var section in Sections)
            {
                if (section == PolicySection.Outbound)
                {
                    await context.RunBeforeOutboundAsync();
                }

                if (await RunSectionAsync(context, chain, section) == PolicyFlow.Return)
                {
                    return;
                }
            }
        }
        catch (PolicyExecutionException ex)
        {
            context.Error = ex.Error;
            Log.PolicyFailed(logger, context.RequestId, ex.Error?.Source, ex.Error?.Reason, ex.Error?.Section, ex.Error?.Path, ex.Message);
            context.ReplaceResponse(ex.Response ?? ApimResponses.InternalServerError(context.RequestId));
            try
            {
                await RunSectionAsync(context, chain, PolicySection.OnError);
            }
            catch (PolicyExecutionException inner)
            {
                Log.OnErrorFailed(logger, context.RequestId, inner.Error?.Source, inner.Error?.Reason, inner.Message);
                context.ReplaceResponse(ApimResponses.InternalServerError(context.RequestId));
            }
        }
    }

    // A span's name per section, made once rather than on every request.
    private static readonly string[] SectionActivityNames = [.. Enum.GetValues<PolicySection>().OrderBy(s => (int)s).Select(s => "policy " + s.ToXmlName())];

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<PolicyFlow> RunSectionAsync(RequestContext context, PolicyChain chain, PolicySection section)
    {
        using var activity = GatewayTelemetry.Source.StartActivity(SectionActivityNames[(int)section]);
        var flow = await PolicyRunner.RunSectionAsync(context, chain.Innermost(section));
        if (activity is not null && context.Target is { } backend)
        {
            activity.SetTag("apim.backend.id", backend.BackendId);
            activity.SetTag("apim.backend.url", backend.Url.ToString());
            if (context.BackendEntity is Backends.BackendPool pool)
            {
                // apim.backend.id is then the member the last forward-request picked.
                activity.SetTag("apim.backend.pool.id", pool.Id);
            }
        }

        return flow;
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.PolicyFailed, LogLevel.Warning, "Request {RequestId}: policy error in {Section} at {Path} ({Source}, {Reason}): {Message}")]
        public static partial void PolicyFailed(ILogger logger, Guid requestId, string? source, string? reason, string? section, string? path, string message);

        [LoggerMessage(LogEvents.OnErrorFailed, LogLevel.Error, "Request {RequestId}: on-error itself failed ({Source}, {Reason}): {Message}")]
        public static partial void OnErrorFailed(ILogger logger, Guid requestId, string? source, string? reason, string message);

        [LoggerMessage(LogEvents.ResponseStreamFailed, LogLevel.Warning, "Request {RequestId}: streaming the backend response failed: {Error}")]
        public static partial void StreamFailed(ILogger logger, Guid requestId, ForwarderError error);
    }
}
