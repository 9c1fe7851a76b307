namespace MockOpenAI.OpenAI;

/// <summary>Azure OpenAI's error bodies, byte for byte as the service sends them (sources in docs/fidelity.md).</summary>
internal static class AzureErrors
{
    public const string Unauthorized = """{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}""";

    public const string KeyAuthDisabled = """{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}""";

    public const string ResourceNotFound = """{"error":{"code":"404","message": "Resource not found"}}""";

    public const string DeploymentNotFound = """{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}""";

    public static string BadRequest(string message, string? param) =>
        System.Text.Json.JsonSerializer.Serialize(new { error = new { code = "BadRequest", message, param, type = "invalid_request_error" } });
}
