namespace Gateway.Admin;

/// <summary>What <c>GET /_gateway/admin/state</c> answers: every registered state with its entries.</summary>
internal sealed record StateResult(IReadOnlyList<StateEntry> States);
