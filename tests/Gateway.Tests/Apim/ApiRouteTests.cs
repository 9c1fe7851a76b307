using Gateway.Apim;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;

namespace Gateway.Tests.Apim;

public sealed class ApiRouteTests
{
    [Fact]
    public void TelemetryEndpoint_IsARouteEndpoint_WhosePatternIsTheOperationsRoute()
    {
        const string route = "/openai/deployments/{deployment-id}/chat/completions";

        var endpoint = Assert.IsType<RouteEndpoint>(ApiRoute.TelemetryEndpoint("POST", route));

        Assert.Equal(route, endpoint.RoutePattern.RawText);
        Assert.Equal(route, endpoint.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()!.Route);
        Assert.Equal(["POST"], endpoint.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods);
    }

    [Fact]
    public void TelemetryEndpoint_OfARouteLongerThanAPatternMayBe_IsPlain_AndStillNamesTheRoute()
    {
        var route = "/openai" + string.Concat(Enumerable.Range(1, 40).Select(i => $"/s{i}")) + "/{last}";

        var endpoint = ApiRoute.TelemetryEndpoint("POST", route);

        Assert.IsNotType<RouteEndpoint>(endpoint);
        Assert.Equal(route, endpoint.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()!.Route);
        Assert.Equal("POST " + route, endpoint.DisplayName);
    }

    [Fact]
    public void TelemetryEndpoint_OfATemplateThePatternParserRefuses_Throws()
    {
        Assert.Throws<RoutePatternException>(() => ApiRoute.TelemetryEndpoint("GET", "/openai/a/{x}{y}"));
    }
}
