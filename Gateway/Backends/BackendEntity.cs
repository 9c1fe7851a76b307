using Gateway.Expressions;

namespace Gateway.Backends;

/// <summary>A backend entity of the topology, as <c>context.Backend</c> shows it: a single backend or a pool.</summary>
internal abstract class BackendEntity(string id, string? azureRegion) : IBackend
{
    public string Id { get; } = id;

    public abstract string Type { get; }

    public string? AzureRegion { get; } = azureRegion;
}
