namespace MockOpenAI.Server;

/// <summary>The three URL shapes of an Azure OpenAI account, which decide where the deployment and the api-version come from.</summary>
internal enum RouteFamily
{
    /// <summary><c>/openai/deployments/{deployment}/...?api-version=</c>: the path names the deployment; api-version required.</summary>
    Deployment,

    /// <summary><c>/openai/v1/...</c>: <c>model</c> in the body names the deployment; api-version optional.</summary>
    V1,

    /// <summary><c>/openai/responses?api-version=</c> and <c>/openai/models</c>: <c>model</c> in the body; api-version required.</summary>
    Versioned,
}
