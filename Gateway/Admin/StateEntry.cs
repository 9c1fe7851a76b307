namespace Gateway.Admin;

/// <summary>One <see cref="IResettableState"/> in the admin endpoints' answers: its name, scope and entries.</summary>
internal sealed record StateEntry(string Name, string Scope, int Entries)
{
    public static StateEntry Of(IResettableState state) => new(state.Name, AdminApi.ScopeName(state.Scope), state.Count);
}
