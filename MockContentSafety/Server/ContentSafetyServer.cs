using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using MockContentSafety.Analysis;
using MockHosting;
using WireMock;
using WireMock.RequestBuilders;
using WireMock.ResponseBuilders;
using WireMock.Server;
using WireMock.Types;
using WireMock.Util;

namespace MockContentSafety.Server;

/// <summary>
/// One emulated Azure AI Content Safety account on WireMock.Net: <c>text:analyze</c> and <c>text:shieldPrompt</c> with
/// the deterministic verdicts of <see cref="TextVerdicts"/>, the text blocklist endpoints over <see cref="BlocklistStore"/>,
/// bearer-token auth (or keys, when configured), at api-version 2024-09-01; WireMock's admin API and request journal at
/// <c>/__admin</c> when an admin password is set.
/// </summary>
internal sealed partial class ContentSafetyServer(
    IOptions<MockContentSafetyOptions> options,
    BearerTokenValidator tokens,
    BlocklistStore blocklists,
    IConfiguration configuration,
    ILogger<ContentSafetyServer> logger) : IHostedService, IDisposable
{
    /// <summary>The api-versions the account answers: the GA versions of Azure's specifications, and the preview with regular-expression blocklist items.</summary>
    public static readonly string[] ApiVersions = ["2024-09-01", "2023-10-01", RegexItemsApiVersion];

    /// <summary>
    /// The api-version whose blocklist items have <c>isRegex</c> (<c>TextBlocklistItem</c> of Azure's
    /// <c>preview/2024-09-15-preview/contentsafety.json</c>); the GA versions have no such field and ignore it.
    /// </summary>
    public const string RegexItemsApiVersion = "2024-09-15-preview";

    /// <summary>Below any mapping added through the admin API, as in the Azure OpenAI mock.</summary>
    public const int EmulatorPriority = 1000;

    /// <summary>The most text (Unicode code points) one analysis takes.</summary>
    public const int MaxTextLength = 10_000;

    private const string Prefix = "/contentsafety";
    private const string BlocklistName = "(?<name>[^/:]+)";

    private readonly MockContentSafetyOptions _options = options.Value;
    private WireMockServer? _server;

    public string[] Urls => _server?.Urls ?? [];

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _server = MockServer.Start(_options, configuration, "http://localhost:5091", "MockContentSafety admin");
        Map(Request.Create().WithPath(Prefix + "/text:analyze").UsingPost(), AnalyzeAsync);
        Map(Request.Create().WithPath(Prefix + "/text:shieldPrompt").UsingPost(), ShieldPromptAsync);
        Map(Request.Create().WithPath(Prefix + "/text/blocklists").UsingGet(), _ => Task.FromResult(ListBlocklists()));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName)).UsingGet(), r => Task.FromResult(GetBlocklist(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName)).UsingPatch(), r => Task.FromResult(CreateOrUpdateBlocklist(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName)).UsingDelete(), r => Task.FromResult(DeleteBlocklist(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName + ":addOrUpdateBlocklistItems")).UsingPost(), r => Task.FromResult(AddOrUpdateItems(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName + ":removeBlocklistItems")).UsingPost(), r => Task.FromResult(RemoveItems(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName + "/blocklistItems")).UsingGet(), r => Task.FromResult(ListItems(r)));
        Map(Request.Create().WithPath(Pattern("/text/blocklists/" + BlocklistName + "/blocklistItems/(?<id>[^/]+)")).UsingGet(), r => Task.FromResult(GetItem(r)));
        Log.Started(logger, _options.Account, string.Join(", ", _server.Urls));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _server?.Stop();
        return Task.CompletedTask;
    }

    public void Dispose() => _server?.Dispose();

    private static WireMock.Matchers.RegexMatcher Pattern(string path) => new("^" + Regex.Escape(Prefix) + path + "$");

    /// <summary>A route at the emulator's priority whose answer comes after authentication and the api-version check.</summary>
    private void Map(IRequestBuilder request, Func<IRequestMessage, Task<ResponseMessage>> answer) =>
        _server!.Given(request)
            .AtPriority(EmulatorPriority)
            .RespondWith(Response.Create().WithCallback(async message => await RefusedAsync(message) ?? await answer(message)));

    private Task<ResponseMessage> AnalyzeAsync(IRequestMessage request)
    {
        if (!TryReadObject(request, out var body, out var refused))
        {
            return Task.FromResult(refused!);
        }

        if (body!["text"] is not JsonValue textValue || !textValue.TryGetValue<string>(out var text))
        {
            return Task.FromResult(Bad("The field 'text' is required and must be a string."));
        }

        if (text.EnumerateRunes().Count() > MaxTextLength)
        {
            return Task.FromResult(Bad($"The length of the text exceeds the limit of {MaxTextLength} characters."));
        }

        var eightLevels = false;
        if (body["outputType"] is { } outputType)
        {
            var type = outputType is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
            if (type is not ("FourSeverityLevels" or "EightSeverityLevels"))
            {
                return Task.FromResult(Bad("The outputType must be FourSeverityLevels or EightSeverityLevels."));
            }

            eightLevels = type == "EightSeverityLevels";
        }

        if (!TryStrings(body["categories"], out var categories) || categories.Any(c => !TextVerdicts.Categories.Contains(c, StringComparer.Ordinal)))
        {
            return Task.FromResult(Bad($"The categories must be among {string.Join(", ", TextVerdicts.Categories)}."));
        }

        if (!TryStrings(body["blocklistNames"], out var names))
        {
            return Task.FromResult(Bad("The field 'blocklistNames' must be an array of strings."));
        }

        if (names.FirstOrDefault(n => !blocklists.TryGet(n, out _)) is { } unknown)
        {
            return Task.FromResult(Json(404, ContentSafetyErrors.NotFound($"Blocklist '{unknown}' does not exist.")));
        }

        var halt = body["haltOnBlocklistHit"] is JsonValue haltValue && haltValue.TryGetValue<bool>(out var h) && h;
        var matches = blocklists.Matches(text, names);
        var analysis = new JsonArray();
        if (!(halt && matches.Count > 0))
        {
            foreach (var category in categories.Count > 0 ? categories : [.. TextVerdicts.Categories])
            {
                analysis.Add(new JsonObject { ["category"] = category, ["severity"] = TextVerdicts.Severity(text, category, eightLevels) });
            }
        }

        var result = new JsonObject
        {
            ["blocklistsMatch"] = new JsonArray([.. matches.Select(m => (JsonNode)new JsonObject
            {
                ["blocklistName"] = m.Blocklist,
                ["blocklistItemId"] = m.Item.Id,
                ["blocklistItemText"] = m.Item.Text,
            })]),
            ["categoriesAnalysis"] = analysis,
        };
        return Task.FromResult(Json(200, result.ToJsonString()));
    }

    private Task<ResponseMessage> ShieldPromptAsync(IRequestMessage request)
    {
        if (!TryReadObject(request, out var body, out var refused))
        {
            return Task.FromResult(refused!);
        }

        string? prompt = null;
        if (body!["userPrompt"] is { } userPrompt && !(userPrompt is JsonValue v && v.TryGetValue(out prompt)))
        {
            return Task.FromResult(Bad("The field 'userPrompt' must be a string."));
        }

        if (!TryStrings(body["documents"], out var documents))
        {
            return Task.FromResult(Bad("The field 'documents' must be an array of strings."));
        }

        if (prompt is null && documents.Count == 0)
        {
            return Task.FromResult(Bad("Either 'userPrompt' or 'documents' is required."));
        }

        if ((prompt?.EnumerateRunes().Count() ?? 0) > MaxTextLength)
        {
            return Task.FromResult(Bad($"The length of the userPrompt exceeds the limit of {MaxTextLength} characters."));
        }

        var result = new JsonObject();
        if (prompt is not null)
        {
            result["userPromptAnalysis"] = new JsonObject { ["attackDetected"] = TextVerdicts.IsAttack(prompt) };
        }

        result["documentsAnalysis"] = new JsonArray([.. documents.Select(d => (JsonNode)new JsonObject { ["attackDetected"] = TextVerdicts.IsAttack(d) })]);
        return Task.FromResult(Json(200, result.ToJsonString()));
    }

    private ResponseMessage ListBlocklists() =>
        Json(200, new JsonObject { ["value"] = new JsonArray([.. blocklists.All().Select(l => (JsonNode)Blocklist(l.Name, l.Description))]) }.ToJsonString());

    private ResponseMessage GetBlocklist(IRequestMessage request)
    {
        var name = Name(request);
        return blocklists.TryGet(name, out var description) ? Json(200, Blocklist(name, description).ToJsonString()) : MissingBlocklist(name);
    }

    private ResponseMessage CreateOrUpdateBlocklist(IRequestMessage request)
    {
        var name = Name(request);
        if (name.Length > 64 || !BlocklistNameRule().IsMatch(name))
        {
            return Bad("The blocklist name must be 1 to 64 characters of letters, digits and ._~-");
        }

        if (!TryReadObject(request, out var body, out var refused))
        {
            return refused!;
        }

        string? description = null;
        if (body!["description"] is { } value && !(value is JsonValue v && v.TryGetValue(out description) && description.Length <= 1024))
        {
            return Bad("The field 'description' must be a string of at most 1024 characters.");
        }

        var created = blocklists.CreateOrUpdate(name, description, out var current);
        return Json(created ? 201 : 200, Blocklist(name, current).ToJsonString());
    }

    private ResponseMessage DeleteBlocklist(IRequestMessage request)
    {
        // Deleting a blocklist that is not there is not an error (our choice: DELETE is idempotent).
        blocklists.Delete(Name(request));
        return new ResponseMessage { StatusCode = 204 };
    }

    private ResponseMessage AddOrUpdateItems(IRequestMessage request)
    {
        var name = Name(request);
        if (!TryReadObject(request, out var body, out var refused))
        {
            return refused!;
        }

        if (body!["blocklistItems"] is not JsonArray list || list.Count is 0 or > 100)
        {
            return Bad("The field 'blocklistItems' must hold 1 to 100 items.");
        }

        var regexItems = Query(request, "api-version") == RegexItemsApiVersion;
        var items = new List<(string, string?, Regex?, bool?)>();
        foreach (var node in list)
        {
            var text = node?["text"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : null;
            var description = node?["description"] is JsonValue d && d.TryGetValue<string>(out var ds) ? ds : null;
            if (string.IsNullOrWhiteSpace(text) || text.Length > 128 || description?.Length > 1024)
            {
                return Bad("Each blocklist item needs a 'text' of 1 to 128 characters (and a 'description' of at most 1024).");
            }

            if (!regexItems)
            {
                // The GA versions' items have no isRegex: an item is its text, whatever else the request says.
                items.Add((text, description, null, null));
                continue;
            }

            var isRegex = false;
            if (node?["isRegex"] is { } flag && !(flag is JsonValue f && f.TryGetValue(out isRegex)))
            {
                return Bad("The field 'isRegex' must be a boolean.");
            }

            var regex = isRegex ? BlocklistPatterns.ForRegex(text) : null;
            if (isRegex && regex is null)
            {
                return Bad($"The text '{text}' of a blocklist item with 'isRegex' is not a valid regular expression.");
            }

            items.Add((text, description, regex, isRegex));
        }

        return blocklists.AddOrUpdate(name, items) is { } stored
            ? Json(200, new JsonObject { ["blocklistItems"] = new JsonArray([.. stored.Select(i => (JsonNode)Item(i, regexItems))]) }.ToJsonString())
            : MissingBlocklist(name);
    }

    private ResponseMessage RemoveItems(IRequestMessage request)
    {
        var name = Name(request);
        if (!TryReadObject(request, out var body, out var refused))
        {
            return refused!;
        }

        if (!TryStrings(body!["blocklistItemIds"], out var ids) || ids.Count is 0 or > 100)
        {
            return Bad("The field 'blocklistItemIds' must hold 1 to 100 ids.");
        }

        return blocklists.Remove(name, ids) ? new ResponseMessage { StatusCode = 204 } : MissingBlocklist(name);
    }

    private ResponseMessage ListItems(IRequestMessage request)
    {
        var name = Name(request);
        if (blocklists.Items(name) is not { } items)
        {
            return MissingBlocklist(name);
        }

        var skip = int.TryParse(Query(request, "skip"), out var s) && s > 0 ? s : 0;
        var top = int.TryParse(Query(request, "top"), out var t) && t >= 0 ? t : int.MaxValue;
        var regexItems = Query(request, "api-version") == RegexItemsApiVersion;
        return Json(200, new JsonObject { ["value"] = new JsonArray([.. items.Skip(skip).Take(top).Select(i => (JsonNode)Item(i, regexItems))]) }.ToJsonString());
    }

    private ResponseMessage GetItem(IRequestMessage request)
    {
        var name = Name(request);
        var id = Uri.UnescapeDataString(request.Path.Split('/')[^1]);
        if (blocklists.Items(name) is not { } items)
        {
            return MissingBlocklist(name);
        }

        return items.FirstOrDefault(i => i.Id == id) is { } item
            ? Json(200, Item(item, Query(request, "api-version") == RegexItemsApiVersion).ToJsonString())
            : Json(404, ContentSafetyErrors.NotFound($"BlocklistItem '{id}' does not exist in blocklist '{name}'."));
    }

    /// <summary>
    /// A bearer token decides when one is sent; otherwise an <c>Ocp-Apim-Subscription-Key</c> only when the account has
    /// keys; then the api-version. Null when the request may proceed.
    /// </summary>
    private async Task<ResponseMessage?> RefusedAsync(IRequestMessage request)
    {
        if (Header(request, "Authorization") is { } authorization)
        {
            if (!await tokens.IsValidAsync(authorization))
            {
                return Json(401, ContentSafetyErrors.Unauthorized);
            }
        }
        else if (Header(request, "Ocp-Apim-Subscription-Key") is { } key)
        {
            if (!KeyMatches(key))
            {
                return Json(401, ContentSafetyErrors.InvalidKey);
            }
        }
        else
        {
            return Json(401, ContentSafetyErrors.Unauthorized);
        }

        var apiVersion = Query(request, "api-version");
        return apiVersion is null || !ApiVersions.Contains(apiVersion, StringComparer.Ordinal) ? Json(400, ContentSafetyErrors.ApiVersionNotSupported) : null;
    }

    /// <summary>Compares a presented key with every account key in constant time; false when the account has none.</summary>
    private bool KeyMatches(string presented)
    {
        var digest = SHA256.HashData(Encoding.UTF8.GetBytes(presented));
        var match = false;
        foreach (var key in _options.ApiKeys)
        {
            match |= CryptographicOperations.FixedTimeEquals(digest, SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        }

        return match;
    }

    private static bool TryReadObject(IRequestMessage request, out JsonObject? body, out ResponseMessage? refused)
    {
        body = null;
        refused = null;
        try
        {
            body = JsonNode.Parse(request.Body ?? string.Empty) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON: refused below, as for any other body that is not an object.
        }

        if (body is null)
        {
            refused = Bad("The request body must be a JSON object.");
            return false;
        }

        return true;
    }

    /// <summary>An absent value or an array of strings.</summary>
    private static bool TryStrings(JsonNode? node, out List<string> values)
    {
        values = [];
        if (node is null)
        {
            return true;
        }

        if (node is not JsonArray array)
        {
            return false;
        }

        foreach (var item in array)
        {
            if (item is not JsonValue value || !value.TryGetValue<string>(out var text))
            {
                return false;
            }

            values.Add(text);
        }

        return true;
    }

    private static JsonObject Blocklist(string name, string? description)
    {
        var list = new JsonObject { ["blocklistName"] = name };
        if (description is not null)
        {
            list["description"] = description;
        }

        return list;
    }

    /// <summary>An item as an api-version shows it: <c>isRegex</c> only where the version has the field, and only when true (as its example answers).</summary>
    private static JsonObject Item(BlocklistItem item, bool regexItems)
    {
        var node = new JsonObject { ["blocklistItemId"] = item.Id };
        if (item.Description is not null)
        {
            node["description"] = item.Description;
        }

        node["text"] = item.Text;
        if (regexItems && item.IsRegex)
        {
            node["isRegex"] = true;
        }

        return node;
    }

    private static string Name(IRequestMessage request) =>
        Uri.UnescapeDataString(request.Path[(Prefix + "/text/blocklists/").Length..].Split('/')[0].Split(':')[0]);

    private static ResponseMessage MissingBlocklist(string name) => Json(404, ContentSafetyErrors.NotFound($"Blocklist '{name}' does not exist."));

    private static ResponseMessage Bad(string message) => Json(400, ContentSafetyErrors.InvalidRequestBody(message));

    private static ResponseMessage Json(int status, string json)
    {
        var headers = new Dictionary<string, WireMockList<string>>(StringComparer.OrdinalIgnoreCase) { ["Content-Type"] = new WireMockList<string>("application/json; charset=utf-8") };
        if (status >= 400 && ContentSafetyErrors.CodeOf(json) is { } code)
        {
            headers["x-ms-error-code"] = new WireMockList<string>(code);
        }

        return new ResponseMessage
        {
            StatusCode = status,
            Headers = headers,
            BodyData = new BodyData { BodyAsString = json, DetectedBodyType = BodyType.String, Encoding = Encoding.UTF8 },
        };
    }

    private static string? Query(IRequestMessage request, string name) =>
        request.Query is not null && request.Query.TryGetValue(name, out var values) ? values.FirstOrDefault() : null;

    private static string? Header(IRequestMessage request, string name) =>
        request.Headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value?.FirstOrDefault();

    [GeneratedRegex("^[0-9A-Za-z._~-]+$")]
    private static partial Regex BlocklistNameRule();

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Mock Content Safety account {Account} listening on {Urls}")]
        public static partial void Started(ILogger logger, string account, string urls);
    }
}
