using Gateway.Pipeline;
using Gateway.Policies;

namespace Gateway.Apim;

/// <summary>A loaded API: its entity, operations and policy chain.</summary>
internal sealed class ApiRoute(ApiEntity entity, ApiDefinition definition, PolicyChain policies) : IDisposable
{
    public ApiEntity Entity { get; } = entity;

    public ApiInfo Info { get; } = new(entity);

    public ApiDefinition Definition { get; } = definition;

    public PolicyChain Policies { get; } = policies;

    public void Dispose() => Policies.Dispose();
}

/// <summary>A request matched to an API operation.</summary>
internal sealed record ApiMatch(ApiRoute Route, ApiOperation Operation, IReadOnlyDictionary<string, string> Parameters, string OperationPath);
