namespace Gateway.Apim.Model;

/// <summary><c>apim/topology.json</c>: the Azure OpenAI accounts and the API Management backends in front of them.</summary>
internal sealed record Topology(IReadOnlyList<AccountDefinition> Accounts, IReadOnlyList<BackendDefinition> Backends)
{
    public const string FileName = "topology.json";

    public static Topology Load(string apimPath)
    {
        var path = Path.Combine(apimPath, FileName);
        var topology = ApimJson.Read<Topology>(path);
        topology.Validate(path);
        return topology;
    }

    private void Validate(string path)
    {
        if (Accounts is null || Accounts.Count == 0)
        {
            throw new ApimArtifactException(path, "no accounts");
        }

        if (Backends is null || Backends.Count == 0)
        {
            throw new ApimArtifactException(path, "no backends");
        }

        var accounts = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var account in Accounts)
        {
            if (string.IsNullOrWhiteSpace(account.Name) || !accounts.Add(account.Name))
            {
                throw new ApimArtifactException(path, $"account name '{account.Name}' is empty or repeated");
            }
        }

        var backends = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var backend in Backends)
        {
            if (string.IsNullOrWhiteSpace(backend.Id) || !backends.Add(backend.Id))
            {
                throw new ApimArtifactException(path, $"backend id '{backend.Id}' is empty or repeated");
            }

            if (!Uri.TryCreate(backend.Url, UriKind.Absolute, out _))
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' has no absolute url");
            }

            if (backend.Account is not null && !accounts.Contains(backend.Account))
            {
                throw new ApimArtifactException(path, $"backend '{backend.Id}' names unknown account '{backend.Account}'");
            }
        }
    }
}

/// <summary>An Azure OpenAI account (a Cognitive Services account of kind OpenAI) in one region.</summary>
internal sealed record AccountDefinition(string Name, string Region, string CustomSubDomain, IReadOnlyList<DeploymentDefinition> Deployments);

/// <summary>A model deployment of an account; SKU capacity is in thousands of tokens per minute.</summary>
internal sealed record DeploymentDefinition(string Name, ModelDefinition Model, SkuDefinition Sku);

/// <summary>The deployed model.</summary>
internal sealed record ModelDefinition(string Format, string Name, string Version);

/// <summary>The deployment SKU (Standard, GlobalStandard, ...) and its capacity.</summary>
internal sealed record SkuDefinition(string Name, int Capacity);

/// <summary>An API Management backend entity of type Single.</summary>
internal sealed record BackendDefinition(string Id, string? Account, string Protocol, string Url, string? Description);
