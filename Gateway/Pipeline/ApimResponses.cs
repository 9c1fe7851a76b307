namespace Gateway.Pipeline;

/// <summary>The responses API Management itself sends, with its exact bodies (sources in docs/fidelity.md).</summary>
internal static class ApimResponses
{
    public const string MissingKeyBody = """{"statusCode": 401, "message": "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API."}""";

    public const string InvalidKeyBody = """{"statusCode": 401, "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription."}""";

    public const string NotFoundBody = """{"statusCode": 404, "message": "Resource not found"}""";

    public const string PayloadTooLargeBody = """{"statusCode": 413, "message": "Request entity too large"}""";

    /// <summary>The reason phrase of API Management's 503 when every member of a pool has its circuit breaker tripped.</summary>
    public const string BackendPoolUnavailableReason = "Backend pool is temporarily unavailable";

    /// <summary>The reason phrase of the 503 for a single backend whose circuit breaker is tripped (chosen: see docs/fidelity.md).</summary>
    public const string BackendUnavailableReason = "Backend is temporarily unavailable";

    public static ResponseState NotFound() => ResponseState.Json(StatusCodes.Status404NotFound, "Not Found", NotFoundBody);

    /// <summary>A body over the gateway's limit (<c>Kestrel:Limits:MaxRequestBodySize</c>): answered before it is read (chosen: see docs/fidelity.md).</summary>
    public static ResponseState PayloadTooLarge() => ResponseState.Json(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", PayloadTooLargeBody);

    public static ResponseState Unauthorized(bool missing, string realm, string headerName)
    {
        var response = ResponseState.Json(StatusCodes.Status401Unauthorized, "Access Denied", missing ? MissingKeyBody : InvalidKeyBody);
        response.Headers["WWW-Authenticate"] = [$"AzureApiManagementKey realm=\"{realm}\",name=\"{headerName}\",type=\"header\""];
        return response;
    }

    /// <summary>No backend to forward to (circuit breakers tripped): a 503 with no body and no Retry-After.</summary>
    public static ResponseState ServiceUnavailable(string reason)
    {
        var response = ResponseState.Empty();
        response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        response.StatusReason = reason;
        response.Body = Array.Empty<byte>();
        return response;
    }

    /// <summary>An error no <c>on-error</c> handled; <c>activityId</c> is the request id.</summary>
    public static ResponseState InternalServerError(Guid requestId) =>
        ResponseState.Json(StatusCodes.Status500InternalServerError, "Internal Server Error", $$"""{"statusCode": 500, "message": "Internal server error", "activityId": "{{requestId}}"}""");
}
