namespace Gateway.Admin;

/// <summary>
/// State a gateway instance keeps across requests (caches, counters, circuit breakers) that the admin endpoint can clear,
/// so a test or a person can start again from a clean gateway without restarting it. Register an implementation with
/// <see cref="ResettableStateServiceCollectionExtensions.AddResettableState{TState}"/>.
/// </summary>
internal interface IResettableState
{
    /// <summary>A short name in the admin endpoint's answers, such as <c>rate-limit</c>.</summary>
    string Name { get; }

    StateScope Scope { get; }

    /// <summary>How many entries (keys, windows, breakers) it holds now; cheap to read.</summary>
    int Count { get; }

    /// <summary>Forgets everything, as if the gateway had just started. Requests in flight may finish against the old state.</summary>
    void Reset();
}
