using System.Text.Json;

namespace MockContentSafety.Server;

/// <summary>Azure AI Content Safety's error bodies (sources and choices in docs/fidelity.md, "Mock Content Safety accounts").</summary>
internal static class ContentSafetyErrors
{
    /// <summary>A missing or invalid bearer token, as the Cognitive Services front door words it for Azure OpenAI too.</summary>
    public const string Unauthorized = """{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}""";

    public const string InvalidKey = """{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}""";

    public const string ApiVersionNotSupported = """{"error":{"code":"BadRequest","message":"API version not supported"}}""";

    /// <summary>A request the service refuses (<c>InvalidRequestBody</c>, in the envelope of the specification's <c>ErrorResponse</c>).</summary>
    public static string InvalidRequestBody(string message) => Error("InvalidRequestBody", message);

    /// <summary>A blocklist (or item) the account does not have.</summary>
    public static string NotFound(string message) => Error("NotFound", message);

    /// <summary>The error code of a body made here, for the <c>x-ms-error-code</c> header.</summary>
    public static string? CodeOf(string body)
    {
        using var document = JsonDocument.Parse(body);
        return document.RootElement.TryGetProperty("error", out var error) && error.TryGetProperty("code", out var code) ? code.GetString() : null;
    }

    private static string Error(string code, string message) =>
        JsonSerializer.Serialize(new { error = new { code, message, details = Array.Empty<object>() } });
}
