namespace AppHost.Tests;

/// <summary>This project's Aspire test classes run one after another (an app takes both cores while it starts).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AspireAppGroup
{
    public const string Name = "Aspire";
}
