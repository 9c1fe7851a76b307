namespace Gateway.Admin;

/// <summary>What <c>POST /_gateway/admin/reset</c> cleared: the scope, and each state with the entries it held.</summary>
internal sealed record ResetResult(string Scope, IReadOnlyList<StateEntry> Reset);
