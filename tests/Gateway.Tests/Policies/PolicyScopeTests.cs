using System.Net;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies;

/// <summary>Global, API and operation scopes joined through <c>&lt;base /&gt;</c>, as API Management runs them.</summary>
public sealed class PolicyScopeTests : IDisposable
{
    private const string ChatPath = "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21";
    private const string EmbeddingsPath = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21";
    private readonly TestApim _apim = new();

    private string GlobalPath => Path.Combine(_apim.Path, PolicyLoader.GlobalPolicyFileName);

    private string OperationPath(string id) => Path.Combine(Path.GetDirectoryName(_apim.PolicyPath)!, PolicyLoader.OperationsFolder, id + ".xml");

    [Fact]
    [Covers("base")]
    public async Task Base_InEachOfThreeScopes_RunsOuterScopesWhereItStands()
    {
        File.WriteAllText(GlobalPath, Scope("global", outboundBaseFirst: true));
        File.WriteAllText(_apim.PolicyPath, Scope("api", outboundBaseFirst: true));
        WriteOperation("ChatCompletions_Create", Scope("operation", outboundBaseFirst: false));

        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        using var chat = await SendAsync(factory, ChatPath);
        using var embeddings = await SendAsync(factory, EmbeddingsPath);

        // The global backend section forwards nothing, so the gateway answers 200 and outbound runs.
        // Inbound: each scope calls <base /> first, so the outermost runs first. Outbound: the operation appends before
        // its <base />, the API and global scopes after theirs. Embeddings has no operation policy: global and API only.
        Assert.Equal("global,api,operation", Header(chat, "x-inbound"));
        Assert.Equal("operation,global,api", Header(chat, "x-outbound"));
        Assert.Equal("global,api", Header(embeddings, "x-inbound"));
        Assert.Equal("global,api", Header(embeddings, "x-outbound"));
    }

    [Fact]
    [Covers("base")]
    public async Task OperationWithoutBase_SkipsTheApiAndGlobalSection()
    {
        File.WriteAllText(GlobalPath, Scope("global", outboundBaseFirst: true));
        File.WriteAllText(_apim.PolicyPath, Scope("api", outboundBaseFirst: true));
        WriteOperation("ChatCompletions_Create", """
            <policies>
              <inbound>
                <set-variable name="trail" value="operation" />
                <return-response>
                  <set-header name="x-inbound" exists-action="override"><value>@((string)context.Variables["trail"])</value></set-header>
                </return-response>
              </inbound>
            </policies>
            """);

        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        using var chat = await SendAsync(factory, ChatPath);

        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        Assert.Equal("operation", Header(chat, "x-inbound"));
    }

    [Fact]
    public void OperationPolicy_ForAnUnknownOperation_FailsTheLoadNamingTheFile()
    {
        WriteOperation("ChatCompletion_Create", "<policies />");

        var ex = Assert.Throws<PolicyLoadException>(() => Gateway.Apim.GatewayArtifacts.Load(_apim.Options()));

        var problem = Assert.Single(ex.Problems);
        Assert.StartsWith(OperationPath("ChatCompletion_Create") + "(1,1): error APIM0006:", problem, StringComparison.Ordinal);
        Assert.Contains("ChatCompletions_Create", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task OperationPolicy_ErrorReportsTheOperationScope()
    {
        WriteOperation("ChatCompletions_Create", """
            <policies>
              <inbound><base /><set-variable name="n" value="@(int.Parse("x"))" /></inbound>
              <on-error>
                <return-response>
                  <set-body>@(context.LastError.Scope + " " + context.LastError.Section + " " + context.LastError.Path)</set-body>
                </return-response>
              </on-error>
            </policies>
            """);

        using var factory = new GatewayFactory(_apim, "http://127.0.0.1:9");
        using var chat = await SendAsync(factory, ChatPath);

        Assert.Equal("operation inbound set-variable[1]", await chat.Content.ReadAsStringAsync());
    }

    public void Dispose() => _apim.Dispose();

    private static string Scope(string name, bool outboundBaseFirst) => $$"""
        <policies>
          <inbound>
            <base />
            <set-variable name="trail" value="@(context.Variables.GetValueOrDefault<string>("trail", null) is string t ? t + ",{{name}}" : "{{name}}")" />
          </inbound>
          <backend>
            {{(name == "global" ? "" : "<base />")}}
          </backend>
          <outbound>
            {{(outboundBaseFirst ? "<base />" : "")}}
            <set-header name="x-outbound" exists-action="append"><value>{{name}}</value></set-header>
            {{(outboundBaseFirst ? "" : "<base />")}}
            <set-header name="x-inbound" exists-action="override"><value>@(context.Variables.GetValueOrDefault<string>("trail", ""))</value></set-header>
          </outbound>
          <on-error><base /></on-error>
        </policies>
        """;

    private void WriteOperation(string id, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(OperationPath(id))!);
        File.WriteAllText(OperationPath(id), text);
    }

    private static string Header(HttpResponseMessage response, string name) => string.Join(",", response.Headers.GetValues(name));

    private static Task<HttpResponseMessage> SendAsync(GatewayFactory factory, string path) =>
        factory.CreateClient().PostChatAsync(path, """{"input":"hi"}""");
}
