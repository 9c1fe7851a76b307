namespace MockOpenAI.OpenAI;

/// <summary>Azure OpenAI's error bodies, byte for byte as the service sends them (sources in docs/fidelity.md).</summary>
internal static class AzureErrors
{
    public const string Unauthorized = """{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}""";

    public const string InvalidKey = """{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."}}""";

    public const string ApiVersionNotSupported = """{"error":{"code":"BadRequest","message":"API version not supported"}}""";

    public const string KeyAuthDisabled = """{"error":{"code":"AuthenticationTypeDisabled","message": "Key based authentication is disabled for this resource."}}""";

    public const string ResourceNotFound = """{"error":{"code":"404","message": "Resource not found"}}""";

    public const string ServerError = """{"error":{"code":"InternalServerError","message":"The server had an error while processing your request. Sorry about that!"}}""";

    /// <summary>The 503 of an account-wide <c>fail</c> fault: the envelope of <see cref="ServerError"/> (no Azure source gives a 503 body; docs/fidelity.md).</summary>
    public const string ServiceUnavailable = """{"error":{"code":"ServiceUnavailable","message":"The service is temporarily unable to process your request. Please try again later."}}""";

    public const string DeploymentNotFound = """{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again."}}""";

    /// <summary>The 429 of a deployment over its tokens-per-minute ("token rate limit") or requests-per-minute ("call rate limit").</summary>
    public static string RateLimited(string operationId, string apiVersion, bool tokens, int retryAfterSeconds) =>
        System.Text.Json.JsonSerializer.Serialize(
            new
            {
                error = new
                {
                    code = "429",
                    message = $"Requests to the {operationId} Operation under Azure OpenAI API version {apiVersion} have exceeded {(tokens ? "token" : "call")} rate limit of your current OpenAI S0 pricing tier. Please retry after {retryAfterSeconds} {(retryAfterSeconds == 1 ? "second" : "seconds")}. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.",
                },
            },
            MockJson.Options);

    /// <summary>The 400 for an operation the deployment's model cannot do (chat on an embeddings model, say).</summary>
    public static string OperationNotSupported(string operationName, string model) =>
        System.Text.Json.JsonSerializer.Serialize(
            new
            {
                error = new
                {
                    code = "OperationNotSupported",
                    message = $"The {operationName} operation does not work with the specified model, {model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
                },
            },
            MockJson.Options);

    /// <summary>
    /// The 400 for a <c>previous_response_id</c> the account does not hold (never stored, deleted, expired, or another
    /// account's). The Responses API answers in OpenAI's error shape.
    /// </summary>
    public static string PreviousResponseNotFound(string id) =>
        InvalidRequest($"Previous response with id '{id}' not found.", "previous_response_id", "previous_response_not_found");

    /// <summary>The 404 for a stored response the account does not hold, on GET, DELETE and input_items (OpenAI's error shape).</summary>
    public static string ResponseNotFound(string id) => InvalidRequest($"Response with id '{id}' not found.", null, null);

    /// <summary>
    /// A 400 the model service words itself (a <c>response_format</c> it refuses, say), in its field order:
    /// message, type, param, code.
    /// </summary>
    public static string InvalidRequest(string message, string? param, string? code) =>
        System.Text.Json.JsonSerializer.Serialize(new { error = new { message, type = "invalid_request_error", param, code } }, MockJson.Options);

    public static string BadRequest(string message, string? param) =>
        System.Text.Json.JsonSerializer.Serialize(new { error = new { code = "BadRequest", message, param, type = "invalid_request_error" } });
}
