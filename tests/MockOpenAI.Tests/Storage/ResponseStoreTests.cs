using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using MockOpenAI.Storage;

namespace MockOpenAI.Tests.Storage;

public class ResponseStoreTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Add_OverCapacity_DropsTheOldest()
    {
        var store = Store(capacity: 2);

        store.Add(Stored("resp_1"));
        store.Add(Stored("resp_2"));
        store.Add(Stored("resp_3"));

        Assert.Equal(2, store.Count);
        Assert.False(store.TryGet("resp_1", out _));
        Assert.True(store.TryGet("resp_2", out _));
        Assert.True(store.TryGet("resp_3", out _));
    }

    [Fact]
    public void TryGet_AtTheLifetime_IsGone()
    {
        var store = Store(lifetime: TimeSpan.FromHours(1));
        store.Add(Stored("resp_1"));

        _time.Advance(TimeSpan.FromMinutes(59));
        var before = store.TryGet("resp_1", out _);
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.True(before);
        Assert.False(store.TryGet("resp_1", out _));
        Assert.Equal(0, store.Count);
    }

    [Fact]
    public void Remove_Held_TrueOnceThenFalse()
    {
        var store = Store();
        store.Add(Stored("resp_1"));

        Assert.True(store.Remove("resp_1"));
        Assert.False(store.Remove("resp_1"));
        Assert.False(store.TryGet("resp_1", out _));
    }

    [Fact]
    public void Conversation_Chain_OldestTurnFirstAndStopsAtADeletedTurn()
    {
        var store = Store();
        store.Add(Stored("resp_1", input: "a", output: "A"));
        store.Add(Stored("resp_2", input: "b", output: "B", previous: "resp_1"));
        store.Add(Stored("resp_3", input: "c", output: "C", previous: "resp_2"));
        store.TryGet("resp_3", out var last);

        var whole = Texts(store.Conversation(last));
        store.Remove("resp_2");
        var cut = Texts(store.Conversation(last));

        Assert.Equal("a,A,b,B,c,C", whole);
        Assert.Equal("c,C", cut);
    }

    private ResponseStore Store(int capacity = 10, TimeSpan? lifetime = null) =>
        new(Options.Create(new MockOpenAIOptions { StoredResponses = capacity, StoredResponseLifetime = lifetime ?? TimeSpan.FromDays(30) }), _time);

    private StoredResponse Stored(string id, string input = "in", string output = "out", string? previous = null) =>
        new(id, _time.GetUtcNow(), Element($$"""{"id":"{{id}}"}"""), [Element($$"""{"text":"{{input}}"}""")], [Element($$"""{"text":"{{output}}"}""")], previous);

    private static JsonElement Element(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private static string Texts(IEnumerable<JsonElement> items) => string.Join(',', items.Select(i => i.GetProperty("text").GetString()));
}
