using Gateway.Apim.Model;
using Gateway.Pipeline;

namespace Gateway.Backends;

/// <summary>
/// A backend entity of type Pool. Each <c>forward-request</c> picks a member: from the group with the lowest priority
/// number that has an available member (one whose circuit breaker is not tripped), lower groups being used only when
/// every member of the groups before them is unavailable; inside the group, round robin when the available members
/// weigh the same, weighted random otherwise (a member of weight 0 gets traffic only when all of its group weigh 0).
/// With <see cref="SessionAffinity"/>, a session stays on the member it is pinned to while that member is available.
/// </summary>
internal sealed class BackendPool : BackendEntity
{
    /// <summary>The priority and weight of a member that gives none (the portal's defaults).</summary>
    public const int DefaultPriority = 1;

    public const int DefaultWeight = 1;

    private readonly PoolMember[][] _groups;

    /// <summary>Per group, the members that take traffic when all are available (what <see cref="Eligible"/> gives then).</summary>
    private readonly PoolMember[][] _takingTraffic;
    private readonly int[] _turns;

    public BackendPool(string id, IEnumerable<PoolMember> members, PoolSessionAffinity? sessionAffinity = null)
        : base(id, azureRegion: null)
    {
        SessionAffinity = sessionAffinity;
        Members = [.. members];
        _groups = [.. Members.GroupBy(m => m.Priority).OrderBy(g => g.Key).Select(g => g.ToArray())];
        _takingTraffic = [.. _groups.Select(TakingTraffic)];
        _turns = new int[_groups.Length];
    }

    public override string Type => BackendDefinition.PoolType;

    public IReadOnlyList<PoolMember> Members { get; }

    /// <summary>The cookie that pins a session to a member; null when the pool has no session affinity.</summary>
    public PoolSessionAffinity? SessionAffinity { get; }

    /// <summary>The member the next request goes to; null when no member is available (the pool is exhausted).</summary>
    public Backend? Select(Func<Backend, bool> isAvailable, RandomSource random)
    {
        if (Eligible(isAvailable, out var group) is not { } weighted)
        {
            return null;
        }

        if (WeighTheSame(weighted))
        {
            // Round robin; the counter only moves forward, and wraps around harmlessly as an unsigned number.
            var turn = (uint)(Interlocked.Increment(ref _turns[group]) - 1);
            return weighted[turn % (uint)weighted.Length].Backend;
        }

        var point = random.NextDouble() * weighted.Sum(m => m.Weight);
        foreach (var member in weighted)
        {
            point -= member.Weight;
            if (point < 0)
            {
                return member.Backend;
            }
        }

        return weighted[^1].Backend;
    }

    /// <summary>
    /// The members <see cref="Select"/> would choose from now, without choosing (for the gateway page): empty when the
    /// pool is exhausted. With round robin, <paramref name="next"/> is the member the next request goes to; with weights
    /// it is null (the choice is random).
    /// </summary>
    public IReadOnlyList<PoolMember> Candidates(Func<Backend, bool> isAvailable, out Backend? next)
    {
        next = null;
        if (Eligible(isAvailable, out var group) is not { } weighted)
        {
            return [];
        }

        if (WeighTheSame(weighted))
        {
            next = weighted[(uint)Volatile.Read(ref _turns[group]) % (uint)weighted.Length].Backend;
        }

        return weighted;
    }

    /// <summary>The first group with an available member, as its members that take traffic (weight 0 only when all are); null when none is available.</summary>
    private PoolMember[]? Eligible(Func<Backend, bool> isAvailable, out int group)
    {
        for (group = 0; group < _groups.Length; group++)
        {
            var members = _groups[group];
            var availableCount = 0;
            foreach (var member in members)
            {
                availableCount += isAvailable(member.Backend) ? 1 : 0;
            }

            if (availableCount == members.Length)
            {
                // The usual case, on every request: nothing tripped, nothing to allocate.
                return _takingTraffic[group];
            }

            if (availableCount > 0 && Array.FindAll(members, m => isAvailable(m.Backend)) is { Length: > 0 } available)
            {
                return TakingTraffic(available);
            }
        }

        return null;
    }

    private static bool WeighTheSame(PoolMember[] members)
    {
        foreach (var member in members)
        {
            if (member.Weight != members[0].Weight)
            {
                return false;
            }
        }

        return true;
    }

    private static PoolMember[] TakingTraffic(PoolMember[] available) =>
        Array.FindAll(available, m => m.Weight > 0) is { Length: > 0 } weighted ? weighted : available;
}
