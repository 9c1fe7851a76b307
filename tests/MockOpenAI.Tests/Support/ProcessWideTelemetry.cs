namespace MockOpenAI.Tests.Support;

/// <summary>
/// Tests that listen to spans and metrics process-wide (OpenTelemetry's listeners are not per host) run alone, so no
/// other test's traffic mixes into what they read.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideTelemetry
{
    public const string Name = "Process-wide telemetry";
}
