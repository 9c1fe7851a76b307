using Gateway.Apim;
using Microsoft.Extensions.Options;

namespace Gateway.Credentials;

/// <summary>Stops the gateway at start on a connection it could never serve, naming the configuration key to fix.</summary>
internal sealed class ConnectionOptionsValidator : IValidateOptions<ApimOptions>
{
    public ValidateOptionsResult Validate(string? name, ApimOptions options)
    {
        var failures = new List<string>();
        foreach (var (provider, connections) in options.Connections)
        {
            foreach (var (id, connection) in connections)
            {
                var key = $"{ApimOptions.SectionName}:{nameof(ApimOptions.Connections)}:{provider}:{id}";
                if (string.IsNullOrEmpty(connection.AccessToken) && string.IsNullOrWhiteSpace(connection.Error))
                {
                    failures.Add($"{key} has no {nameof(ConnectionOptions.AccessToken)} (or an {nameof(ConnectionOptions.Error)} to emulate a connection in an error state).");
                }

                for (var i = 0; i < connection.AccessPolicies.Count; i++)
                {
                    var policy = connection.AccessPolicies[i];
                    if (string.IsNullOrWhiteSpace(policy.ObjectId) || string.IsNullOrWhiteSpace(policy.TenantId))
                    {
                        failures.Add($"{key}:{nameof(ConnectionOptions.AccessPolicies)}:{i} needs both {nameof(AccessPolicyOptions.ObjectId)} and {nameof(AccessPolicyOptions.TenantId)}.");
                    }
                }
            }
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
