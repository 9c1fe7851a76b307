using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using MockOpenAI.Tests.Support;

namespace MockOpenAI.Tests.EndToEnd;

/// <summary>
/// An AI-Gateway style setup, where the login to Azure OpenAI sits on the backend entities
/// (<c>credentials.managedIdentity</c>) and the policy only picks the pool: the gateway in front of a real mock account,
/// which has local auth disabled and accepts nothing but a valid managed-identity token. The caller's subscription key
/// reaches the account too (API Management forwards it by default); the token beside it decides. Without the credentials
/// only the key arrives, and the account refuses it as Azure does.
/// </summary>
public sealed class BackendCredentialsEndToEndTests : IAsyncLifetime, IDisposable
{
    private const string Policy = """
        <policies>
          <inbound>
            <base />
            <set-backend-service backend-id="gpt-4o-pool" />
          </inbound>
          <backend>
            <forward-request />
          </backend>
          <outbound>
            <base />
          </outbound>
          <on-error>
            <base />
          </on-error>
        </policies>
        """;

    private readonly ObservedTime _time = new(new DateTimeOffset(2026, 12, 5, 9, 0, 0, TimeSpan.Zero));
    private readonly RSA _key = RSA.Create(2048);
    private readonly string _apim = Directory.CreateTempSubdirectory("apim-credentials-").FullName;
    private LoopbackAccount _account = null!;

    public async Task InitializeAsync()
    {
        var options = new MockOpenAIOptions { Account = "aoai-eastus2", Region = "eastus2" };
        options.Deployments["gpt-4o"] = new DeploymentOptions { Model = "gpt-4o", Version = "2024-11-20" };
        _account = await LoopbackAccount.StartAsync(_time, options, signingKey: _key);
    }

    public async Task DisposeAsync() => await _account.DisposeAsync();

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_apim, recursive: true);
    }

    [Theory]
    [InlineData(true, HttpStatusCode.OK)]
    [InlineData(false, HttpStatusCode.Forbidden)]
    public async Task PolicyWithoutLogin_GetsTheModelsAnswerOnlyWhenTheBackendsCarryManagedIdentityCredentials(bool withCredentials, HttpStatusCode expected)
    {
        WriteApim(withCredentials);
        await using var gateway = InProcessGateway.InFrontOf(_time, _key, new Dictionary<string, Uri>
        {
            ["aoai-eastus2-gpt-4o"] = _account.Http.BaseAddress!,
            ["aoai-swedencentral-gpt-4o"] = _account.Http.BaseAddress!,
            ["aoai-japaneast-gpt-4o"] = _account.Http.BaseAddress!,
        }, _apim);
        using var client = new HttpClient { BaseAddress = gateway.Url };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21")
        {
            Content = new StringContent("""{"messages":[{"role":"user","content":"Who let me in?"}],"max_tokens":5}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("api-key", InProcessGateway.ChatAppKey);

        using var response = await client.SendAsync(request).WaitAsync(TestTimeouts.Request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        if (withCredentials)
        {
            Assert.Equal("chat.completion", JsonNode.Parse(body)!["object"]!.GetValue<string>());
        }
        else
        {
            Assert.Contains("AuthenticationTypeDisabled", body, StringComparison.Ordinal);
        }
    }

    /// <summary>The shipped apim/ with the policy above, and with or without credentials on every single backend.</summary>
    private void WriteApim(bool withCredentials)
    {
        foreach (var file in Directory.EnumerateFiles(InProcessGateway.ShippedApimPath, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_apim, Path.GetRelativePath(InProcessGateway.ShippedApimPath, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
        }

        File.WriteAllText(Path.Combine(_apim, "apis", "azure-openai", "policy.xml"), Policy);
        var path = Path.Combine(_apim, "topology.json");
        var topology = JsonNode.Parse(File.ReadAllText(path), documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!;
        foreach (var backend in topology["backends"]!.AsArray().Where(b => b!["type"]?.GetValue<string>() != "Pool"))
        {
            backend!.AsObject().Remove("circuitBreaker");
            if (withCredentials)
            {
                backend["credentials"] = JsonNode.Parse("""{ "managedIdentity": { "resource": "https://cognitiveservices.azure.com", "clientId": "{{managed-identity-client-id}}" } }""");
            }
        }

        File.WriteAllText(path, topology.ToJsonString());
    }
}
