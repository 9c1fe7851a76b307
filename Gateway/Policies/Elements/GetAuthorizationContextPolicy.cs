using Gateway.Credentials;
using Gateway.Pipeline;

namespace Gateway.Policies.Elements;

/// <summary>
/// <c>get-authorization-context</c>: stores the <see cref="Expressions.Authorization"/> of credential manager connection
/// <c>authorization-id</c> of provider <c>provider-id</c> in <c>context-variable-name</c>, the connections coming from
/// configuration (<see cref="CredentialManager"/>). <c>identity-type</c> is whose permission is checked: <c>managed</c>
/// (default; the gateway's identity, which may use every connection) or <c>jwt</c> (the token in <c>identity</c>, which is
/// evaluated only then). A connection that is missing, in an error state or not permitted goes to on-error with
/// <c>context.LastError</c> Source <c>get-authorization-context</c> (the unhandled 500 otherwise); with
/// <c>ignore-error="true"</c> the variable holds null instead. Every attribute may be an expression.
/// </summary>
internal sealed class GetAuthorizationContextPolicy(
    ElementInfo info,
    PolicyValue providerId,
    PolicyValue authorizationId,
    PolicyValue variable,
    PolicyValue? identityType,
    PolicyValue? identity,
    PolicyValue? ignoreError) : PolicyElement(info)
{
    public static PolicyElement? Parse(ElementReader reader)
    {
        var provider = reader.Value("provider-id", required: true);
        var authorization = reader.Value("authorization-id", required: true);
        var variable = reader.Value("context-variable-name", required: true);
        var identityType = reader.Value("identity-type");
        if (identityType is { IsExpression: false } && !TryParseIdentityType(identityType.ToString(), out _))
        {
            reader.Error($"attribute 'identity-type' of <{reader.Info.Name}> must be managed or jwt, not '{identityType}'");
        }

        var identity = reader.Value("identity");
        var ignoreError = reader.Value("ignore-error");
        if (ignoreError is { IsExpression: false } && !bool.TryParse(ignoreError.ToString().Trim(), out _))
        {
            reader.Error($"attribute 'ignore-error' of <{reader.Info.Name}> must be true or false, not '{ignoreError}'");
        }

        reader.Children();
        return provider is null || authorization is null || variable is null
            ? null
            : new GetAuthorizationContextPolicy(reader.Info, provider, authorization, variable, identityType, identity, ignoreError);
    }

    public override ValueTask<PolicyFlow> ExecuteAsync(RequestContext context, ExecutionFrame frame)
    {
        var name = variable.EvaluateString(context, Name);
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, "context-variable-name must name a variable.");
        }

        var ignore = ignoreError?.Evaluate(context, Name) switch
        {
            null => false,
            bool flag => flag,
            string text when bool.TryParse(text.Trim(), out var flag) => flag,
            var other => throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"ignore-error must be true or false, not '{other}'."),
        };
        var type = identityType?.EvaluateString(context, Name) is { } typeText
            ? TryParseIdentityType(typeText, out var parsed) ? parsed : throw new PolicyExecutionException(Name, ErrorReasons.ExpressionValueEvaluationFailure, $"identity-type must be managed or jwt, not '{typeText}'.")
            : ConnectionIdentityType.Managed;

        // The reference: identity is "ignored for identity-type other than jwt", so it is not even evaluated then.
        var token = type == ConnectionIdentityType.Jwt ? identity?.EvaluateString(context, Name) : null;
        var provider = providerId.EvaluateString(context, Name) ?? string.Empty;
        var connection = authorizationId.EvaluateString(context, Name) ?? string.Empty;
        try
        {
            context.VariableStore[name] = context.Services.Credentials.Acquire(provider, connection, type, token);
        }
        catch (CredentialManagerException) when (ignore)
        {
            // As documented: "the context variable is assigned a value of null".
            context.VariableStore[name] = null!;
        }
        catch (CredentialManagerException ex)
        {
            throw new PolicyExecutionException(Name, ex.Reason, ex.Message, ex);
        }

        return ValueTask.FromResult(PolicyFlow.Continue);
    }

    private static bool TryParseIdentityType(string text, out ConnectionIdentityType type)
    {
        // Compared without case: the reference spells them in lower case, and says nothing of other spellings.
        var trimmed = text.Trim();
        type = string.Equals(trimmed, "jwt", StringComparison.OrdinalIgnoreCase) ? ConnectionIdentityType.Jwt : ConnectionIdentityType.Managed;
        return type == ConnectionIdentityType.Jwt || string.Equals(trimmed, "managed", StringComparison.OrdinalIgnoreCase);
    }
}
