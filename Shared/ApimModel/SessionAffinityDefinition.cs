namespace Gateway.Apim.Model;

/// <summary>
/// A pool's <c>sessionAffinity</c> (ARM: <c>BackendSessionAffinity</c>): requests of one session go to the same member.
/// </summary>
internal sealed record SessionAffinityDefinition(SessionIdDefinition? SessionId);
