using Gateway.Apim;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

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

    public static TheoryData<string> RoutesNoPatternCanHold => new()
    {
        // More segments than ASP.NET Core's route patterns allow (28).
        "/openai" + string.Concat(Enumerable.Range(1, 40).Select(i => $"/s{i}")) + "/{last}",

        // A parameter whose name the pattern parser reads as its own catch-all syntax, refused before another segment.
        "/openai/files/{*rest}/meta",
    };

    [Theory]
    [MemberData(nameof(RoutesNoPatternCanHold))]
    public void TelemetryEndpoint_OfARouteNoPatternCanHold_IsPlain_AndStillNamesTheRoute(string route)
    {
        var endpoint = ApiRoute.TelemetryEndpoint("POST", route);

        Assert.IsNotType<RouteEndpoint>(endpoint);
        Assert.Equal(route, endpoint.Metadata.GetMetadata<IRouteDiagnosticsMetadata>()!.Route);
        Assert.Equal("POST " + route, endpoint.DisplayName);
    }
}
