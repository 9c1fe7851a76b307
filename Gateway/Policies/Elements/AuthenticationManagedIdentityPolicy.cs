using Gateway.Identity;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>authentication-managed-identity</c>: gets a token for <c>resource</c> from the gateway's managed identity: the local
/// issuer, or Microsoft Entra ID through Azure.Identity (<c>Identity:Provider</c>). With <c>output-token-variable-name</c> the token goes to that variable; otherwise it is set as
/// <c>Authorization: Bearer</c>. Tokens are cached until they expire. In outbound (where Microsoft's samples get a token for a
/// later call) it works the same: the variable is what is useful there, as the request has already been forwarded.
/// </summary>
internal sealed class AuthenticationManagedIdentityPolicy(ElementInfo info, string resource, string? clientId, string? outputVariable, bool ignoreError)
    : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var resource = reader.Literal("resource", required: true);
        var clientId = reader.Literal("client-id");
        var output = reader.Literal("output-token-variable-name");
        var ignoreError = reader.Bool("ignore-error", false);
        reader.Children();
        return resource is null ? null : new AuthenticationManagedIdentityPolicy(reader.Info, resource, clientId, output, ignoreError);
    }

    public override async ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        AccessToken token;
        try
        {
            token = await context.Services.ManagedIdentity.GetTokenAsync(resource, clientId, context.HttpContext.RequestAborted);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (ignoreError)
            {
                return PolicyFlow.Continue;
            }

            throw new PolicyExecutionException(Name, ErrorReasons.ManagedIdentityTokenFailure, $"Could not obtain a managed identity token for '{resource}': {ex.Message}", ex);
        }

        if (outputVariable is not null)
        {
            context.VariableStore[outputVariable] = token.Token;
        }
        else
        {
            context.RequestHeaders["Authorization"] = ["Bearer " + token.Token];
        }

        return PolicyFlow.Continue;
    }
}
