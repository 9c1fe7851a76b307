namespace AppHost.Tests;

/// <summary>
/// Every test class that starts the Aspire app belongs here: apps started in parallel on a 2-core machine starve each
/// other, so they run one after another.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AspireAppGroup
{
    public const string Name = "Aspire";
}
