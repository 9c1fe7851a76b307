namespace Gateway.Admin.Page;

/// <summary>A pool on the page: its members, the one the next request goes to (round robin; null when weighted or exhausted), and whether none is available.</summary>
internal sealed record PagePool(string Id, IReadOnlyList<PagePoolMember> Members, string? Next, bool Exhausted);
