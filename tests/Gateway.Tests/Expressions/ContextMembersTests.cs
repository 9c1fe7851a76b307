using System.Text;
using System.Text.Json.Nodes;
using Gateway.Tests.Support;

namespace Gateway.Tests.Expressions;

/// <summary>The <c>context</c> members and helpers of issue 13, read by policy expressions through the whole gateway.</summary>
public sealed class ContextMembersTests : IAsyncLifetime
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private RecordingBackend _backend = null!;

    public async Task InitializeAsync() => _backend = await RecordingBackend.StartAsync();

    public async Task DisposeAsync() => await _backend.DisposeAsync();

    [Fact]
    public async Task Deployment_IsTheManagedGateway()
    {
        var seen = await SeenAsync("""
            var d = context.Deployment;
            return d.GatewayId + "|" + d.Gateway.Id + "|" + d.Gateway.IsManaged + "|" + (d.Gateway.InstanceId.Length > 0) + "|"
                + d.Region + "|" + d.ServiceName + "|" + d.ServiceId + "|" + d.Certificates.Count;
            """);

        Assert.Equal("managed|managed|True|True|local|local-apim|/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/Microsoft.ApiManagement/service/local-apim|0", seen);
    }

    [Fact]
    public async Task Api_Unversioned_HasRevisionOneCurrentAndNoVersion_AndNoWorkspace()
    {
        var seen = await SeenAsync("""
            return (context.Api.Version ?? "(null)") + "|" + context.Api.Revision + "|" + context.Api.IsCurrentRevision + "|" + (context.Workspace == null);
            """);

        Assert.Equal("(null)|1|True|True", seen);
    }

    [Fact]
    public async Task Api_WithArmVersionAndRevision_ReportsThem()
    {
        var seen = await SeenAsync(
            """
            return context.Api.Version + "|" + context.Api.Revision + "|" + context.Api.IsCurrentRevision;
            """,
            configure: apim =>
            {
                var path = Path.Combine(apim.Path, "apis", "azure-openai", "api.json");
                var api = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
                api["apiVersion"] = "v2";
                api["apiRevision"] = "3";
                api["isCurrent"] = false;
                File.WriteAllText(path, api.ToJsonString());
            });

        Assert.Equal("v2|3|False", seen);
    }

    [Fact]
    public async Task RequestUrl_ToUri_IsTheWholeUrl()
    {
        var seen = await SeenAsync("""
            Uri uri = context.Request.Url.ToUri();
            return uri.AbsolutePath + "|" + uri.Query + "|" + (uri.ToString() == context.Request.Url.ToString()) + "|" + context.Request.OriginalUrl.ToUri().Host;
            """);

        Assert.Equal("/openai/deployments/gpt-4o/chat/completions|?api-version=2024-10-21|True|localhost", seen);
    }

    [Fact]
    public async Task Body_AsXml_ReadsNodeElementAndDocument_AndConsumesWithoutPreserveContent()
    {
        var seen = await SeenAsync(
            """
            XElement element = context.Request.Body.As<XElement>(preserveContent: true);
            var node = (XElement)context.Request.Body.As<XNode>(true);
            XDocument document = context.Request.Body.As<XDocument>();
            return element.Element("model").Value + "|" + node.Name.LocalName + "|" + document.Root.Elements().Count() + "|"
                + context.Request.Body.As<string>(true).Length;
            """,
            content: new StringContent("<request><model>gpt-4o</model><n>2</n></request>", Encoding.UTF8, "application/xml"));

        Assert.Equal("gpt-4o|request|2|0", seen);
    }

    [Fact]
    public async Task Body_AsXml_NotXml_TakesOnErrorWithTheParserMessage()
    {
        using var apim = new TestApim("""
            <policies>
              <inbound>
                <set-variable name="doc" value="@(context.Request.Body.As&lt;XDocument&gt;().Root.Name.LocalName)" />
              </inbound>
              <backend><forward-request /></backend>
              <outbound />
              <on-error>
                <return-response>
                  <set-status code="400" reason="Bad" />
                  <set-header name="x-error" exists-action="override"><value>@(context.LastError.Reason + "|" + context.LastError.Message)</value></set-header>
                </return-response>
              </on-error>
            </policies>
            """);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var request = Request(new StringContent("""{"not":"xml"}""", Encoding.UTF8, "application/json"));

        using var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);

        var error = response.Headers.GetValues("x-error").Single();
        Assert.StartsWith("ExpressionValueEvaluationFailure|", error, StringComparison.Ordinal);
        Assert.Contains("The body is not XML", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_AsFormUrlEncodedContent_DecodesRepeatsAndSerializes()
    {
        var seen = await SeenAsync(
            """
            IDictionary<string, IList<string>> form = context.Request.Body.AsFormUrlEncodedContent(preserveContent: true);
            var again = context.Request.Body.AsFormUrlEncodedContent();
            return string.Join(",", form["a"]) + "|" + form["b c"][0] + "|" + form["flag"][0].Length + "|" + form.ToQueryString() + "|"
                + JsonConvert.SerializeObject(again) + "|" + context.Request.Body.As<string>(true).Length;
            """,
            content: new StringContent("a=1&b+c=x%26y&a=2&flag", Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal("""1,2|x&y|0|a=1&a=2&b+c=x%26y&flag=|{"a":["1","2"],"b c":["x&y"],"flag":[""]}|0""", seen);
    }

    [Fact]
    public async Task AuthorizationHeader_AsBasicAndTryParseBasic_ReadTheCredentials()
    {
        var seen = await SeenAsync(
            """
            BasicAuthCredentials credentials = context.Request.Headers.GetValueOrDefault("Authorization", "").AsBasic();
            BasicAuthCredentials parsed;
            var bearer = "Bearer abc".TryParseBasic(out parsed);
            return credentials.UserId + "|" + credentials.Password + "|" + bearer + "|" + (parsed == null);
            """,
            configure: null,
            content: null,
            authorization: "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("alice:p@ss:word")));

        Assert.Equal("alice|p@ss:word|False|True", seen);
    }

    /// <summary>Runs <paramref name="block"/> in inbound and returns what it gave, carried back in a header by <c>return-response</c>.</summary>
    private async Task<string> SeenAsync(string block, Action<TestApim>? configure = null, HttpContent? content = null, string? authorization = null)
    {
        using var apim = new TestApim($$"""
            <policies>
              <inbound>
                <return-response>
                  <set-header name="x-seen" exists-action="override"><value>@{
                    {{block}}
                  }</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);
        configure?.Invoke(apim);
        using var factory = new GatewayFactory(apim, _backend.Url);
        using var request = Request(content ?? new StringContent("""{"messages":[]}""", Encoding.UTF8, "application/json"));
        if (authorization is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", authorization);
        }

        using var response = await factory.CreateClient().SendAsync(request).WaitAsync(TestTimeouts.Request);

        Assert.True(response.Headers.Contains("x-seen"), await response.Content.ReadAsStringAsync().WaitAsync(TestTimeouts.Request));
        return response.Headers.GetValues("x-seen").Single();
    }

    private static HttpRequestMessage Request(HttpContent content)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, ChatPath) { Content = content };
        request.Headers.Add("api-key", GatewayFactory.PrimaryKey);
        return request;
    }
}
