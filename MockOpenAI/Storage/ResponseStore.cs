using Microsoft.Extensions.Options;

namespace MockOpenAI.Storage;

/// <summary>
/// The account's stored responses, in memory: one store per mock process, so per account. Bounded in count (the oldest
/// stored leaves first) and in age (a response older than the lifetime, on the injected clock, is gone). Thread-safe.
/// </summary>
internal sealed class ResponseStore(IOptions<MockOpenAIOptions> options, TimeProvider time)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, LinkedListNode<StoredResponse>> _byId = new(StringComparer.Ordinal);
    private readonly LinkedList<StoredResponse> _oldestFirst = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    public void Add(StoredResponse response)
    {
        lock (_lock)
        {
            RemoveLocked(response.Id);
            _byId[response.Id] = _oldestFirst.AddLast(response);
            var now = time.GetUtcNow();
            while (_oldestFirst.First is { } oldest && (_byId.Count > options.Value.StoredResponses || Expired(oldest.Value, now)))
            {
                RemoveLocked(oldest.Value.Id);
            }
        }
    }

    public bool TryGet(string id, out StoredResponse response)
    {
        lock (_lock)
        {
            if (_byId.TryGetValue(id, out var node) && !Expired(node.Value, time.GetUtcNow()))
            {
                response = node.Value;
                return true;
            }

            RemoveLocked(id);
            response = null!;
            return false;
        }
    }

    /// <summary>Deletes a stored response; false when the account does not hold it (or it has expired).</summary>
    public bool Remove(string id)
    {
        lock (_lock)
        {
            var held = _byId.TryGetValue(id, out var node) && !Expired(node.Value, time.GetUtcNow());
            RemoveLocked(id);
            return held;
        }
    }

    /// <summary>
    /// The turns <paramref name="response"/> continues, oldest first, each as its input items then its output items.
    /// The walk stops at the first turn the store no longer holds: what was deleted or expired is silently left out.
    /// </summary>
    public IReadOnlyList<System.Text.Json.JsonElement> Conversation(StoredResponse response)
    {
        var turns = new List<StoredResponse> { response };
        var seen = new HashSet<string>(StringComparer.Ordinal) { response.Id };
        while (turns[^1].PreviousResponseId is { } previous && seen.Add(previous) && TryGet(previous, out var earlier))
        {
            turns.Add(earlier);
        }

        turns.Reverse();
        return [.. turns.SelectMany(t => t.InputItems.Concat(t.OutputItems))];
    }

    private bool Expired(StoredResponse response, DateTimeOffset now) => now - response.StoredAt >= options.Value.StoredResponseLifetime;

    private void RemoveLocked(string id)
    {
        if (_byId.Remove(id, out var node))
        {
            _oldestFirst.Remove(node);
        }
    }
}
