using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MockOpenAI.Server;

/// <summary>
/// The account-wide fault control at <see cref="Path"/>, guarded like WireMock's admin API (<see cref="MockHosting.AdminGuard"/>):
/// <c>POST</c> sets one fault (a JSON object, see <see cref="Parse"/>), <c>GET</c> lists those in force, <c>DELETE</c>
/// ends them all (recover). Each answers the faults in force. Unlike a WireMock mapping, a fault is timed on the
/// account's clock and leaves the emulator's answer in place for what it does not decide.
/// </summary>
internal static partial class FaultsApi
{
    public const string Path = "/__mock/faults";

    /// <summary>The longest fault, Retry-After or extra latency accepted.</summary>
    public static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    /// <summary>The most requests a counted fault may decide.</summary>
    public const int MostRequests = 1_000_000;

    private static readonly Dictionary<string, FaultKind> Kinds = Enum.GetValues<FaultKind>().ToDictionary(k => Name(k), StringComparer.Ordinal);

    public static void Install(IApplicationBuilder app, AccountFaults faults, TimeProvider time, IReadOnlyCollection<string> deployments, ILogger logger) => app.Use(async (context, next) =>
    {
        if (!context.Request.Path.Equals(Path, StringComparison.OrdinalIgnoreCase))
        {
            await next(context);
            return;
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            JsonElement body;
            try
            {
                using var document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
                body = document.RootElement.Clone();
            }
            catch (JsonException)
            {
                await WriteAsync(context, StatusCodes.Status400BadRequest, Error("The body is not valid JSON."));
                return;
            }

            if (Parse(body, time.GetUtcNow(), deployments, out var error) is not { } create)
            {
                await WriteAsync(context, StatusCodes.Status400BadRequest, Error(error!));
                return;
            }

            var fault = faults.Set(create);
            Log.Set(logger, Name(fault.Kind), fault.Deployment ?? "every deployment", Describe(fault));
        }
        else if (HttpMethods.IsDelete(context.Request.Method))
        {
            Log.Cleared(logger, faults.Clear());
        }
        else if (!HttpMethods.IsGet(context.Request.Method))
        {
            context.Response.Headers.Allow = "GET, POST, DELETE";
            await WriteAsync(context, StatusCodes.Status405MethodNotAllowed, Error($"{context.Request.Method} is not allowed here: GET, POST or DELETE."));
            return;
        }

        await WriteAsync(context, StatusCodes.Status200OK, State(faults.Snapshot(), time.GetUtcNow()));
    });

    /// <summary>
    /// Reads one fault: <c>kind</c> (<c>throttle</c>, <c>fail</c>, <c>hang</c>, <c>reset</c>, <c>slow</c>), optionally
    /// <c>deployment</c>, and by kind: throttle <c>seconds</c> and <c>retryAfter</c> (seconds; default: the throttle's
    /// length); fail <c>count</c> and <c>status</c> (500 or 503, default 500); hang <c>seconds</c>; reset <c>count</c> or
    /// <c>seconds</c>; slow <c>seconds</c> and <c>latencyMs</c>. Anything else is refused with a message in
    /// <paramref name="error"/>. Returns how to build the fault from its id.
    /// </summary>
    public static Func<long, AccountFault>? Parse(JsonElement body, DateTimeOffset now, IReadOnlyCollection<string> deployments, out string? error)
    {
        error = null;
        if (body.ValueKind != JsonValueKind.Object)
        {
            error = "The body must be a JSON object with a 'kind'.";
            return null;
        }

        if (!body.TryGetProperty("kind", out var kindValue) || kindValue.ValueKind != JsonValueKind.String || !Kinds.TryGetValue(kindValue.GetString()!, out var kind))
        {
            error = $"'kind' must be one of {string.Join(", ", Kinds.Keys)}.";
            return null;
        }

        string[] allowed = kind switch
        {
            FaultKind.Throttle => ["seconds", "retryAfter"],
            FaultKind.Fail => ["count", "status"],
            FaultKind.Reset => ["count", "seconds"],
            FaultKind.Slow => ["seconds", "latencyMs"],
            _ => ["seconds"],
        };
        foreach (var property in body.EnumerateObject())
        {
            if (property.Name is not ("kind" or "deployment") && !allowed.Contains(property.Name, StringComparer.Ordinal))
            {
                error = $"'{property.Name}' is not a setting of '{Name(kind)}', which takes {string.Join(", ", allowed.Select(a => $"'{a}'"))} and 'deployment'.";
                return null;
            }
        }

        string? deployment = null;
        if (body.TryGetProperty("deployment", out var scope) && scope.ValueKind != JsonValueKind.Null)
        {
            deployment = scope.ValueKind == JsonValueKind.String ? scope.GetString() : null;
            if (deployment is null || !deployments.Contains(deployment, StringComparer.OrdinalIgnoreCase))
            {
                error = $"'deployment' must name one of this account's deployments: {string.Join(", ", deployments)}.";
                return null;
            }
        }

        var seconds = Number(body, "seconds", 1, (int)Longest.TotalSeconds, ref error);
        var count = Number(body, "count", 1, MostRequests, ref error);
        var retryAfter = Number(body, "retryAfter", 1, (int)Longest.TotalSeconds, ref error);
        var status = Number(body, "status", 500, 503, ref error);
        var latency = Number(body, "latencyMs", 1, (int)Longest.TotalMilliseconds, ref error);
        if (error is not null)
        {
            return null;
        }

        if (status is not (null or 500 or 503))
        {
            error = "'status' must be 500 or 503.";
            return null;
        }

        var needs = kind switch
        {
            FaultKind.Fail when count is null => "'count' (the requests to fail)",
            FaultKind.Reset when (count is null) == (seconds is null) => "either 'count' (the requests to reset) or 'seconds' (how long), not both",
            FaultKind.Slow when seconds is null || latency is null => "'seconds' (how long) and 'latencyMs' (the latency to add)",
            FaultKind.Throttle or FaultKind.Hang when seconds is null => "'seconds' (how long)",
            _ => null,
        };
        if (needs is not null)
        {
            error = $"'{Name(kind)}' needs {needs}.";
            return null;
        }

        DateTimeOffset? until = seconds is { } s ? now + TimeSpan.FromSeconds(s) : null;
        return id => new AccountFault(kind, deployment)
        {
            Id = id,
            Until = until,
            Remaining = count,
            RetryAfter = TimeSpan.FromSeconds(retryAfter ?? seconds ?? 0),
            Status = status ?? StatusCodes.Status500InternalServerError,
            Latency = TimeSpan.FromMilliseconds(latency ?? 0),
        };
    }

    /// <summary>A fault's name as the endpoint reads and writes it (<c>throttle</c>).</summary>
    public static string Name(FaultKind kind) => JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    /// <summary>The faults in force: <c>{"faults":[{"kind":…,"deployment":…,"until":…,"remaining":…,…}]}</c>.</summary>
    private static JsonObject State(IReadOnlyList<AccountFault> faults, DateTimeOffset now)
    {
        var list = new JsonArray();
        foreach (var fault in faults)
        {
            var entry = new JsonObject { ["kind"] = Name(fault.Kind), ["deployment"] = fault.Deployment };
            if (fault.Until is { } until)
            {
                entry["until"] = until.ToString("O", CultureInfo.InvariantCulture);
                entry["secondsLeft"] = Math.Ceiling((until - now).TotalSeconds);
            }

            if (fault.Remaining is { } remaining)
            {
                entry["remaining"] = remaining;
            }

            switch (fault.Kind)
            {
                case FaultKind.Throttle:
                    entry["retryAfter"] = (int)fault.RetryAfter.TotalSeconds;
                    break;
                case FaultKind.Fail:
                    entry["status"] = fault.Status;
                    break;
                case FaultKind.Slow:
                    entry["latencyMs"] = (int)fault.Latency.TotalMilliseconds;
                    break;
            }

            list.Add(entry);
        }

        return new JsonObject { ["now"] = now.ToString("O", CultureInfo.InvariantCulture), ["faults"] = list };
    }

    private static int? Number(JsonElement body, string name, int min, int max, ref string? error)
    {
        if (error is not null || !body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number) || number < min || number > max)
        {
            error = $"'{name}' must be a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}.";
            return null;
        }

        return number;
    }

    private static string Describe(AccountFault fault) =>
        (fault.Until is { } until ? $"until {until:O}" : $"for {fault.Remaining} request(s)") + fault.Kind switch
        {
            FaultKind.Throttle => $", Retry-After {fault.RetryAfter.TotalSeconds} s",
            FaultKind.Fail => $", status {fault.Status}",
            FaultKind.Slow => $", +{fault.Latency.TotalMilliseconds} ms",
            _ => string.Empty,
        };

    private static JsonObject Error(string message) => new() { ["error"] = new JsonObject { ["code"] = "InvalidFault", ["message"] = message } };

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), context.RequestAborted);
    }

    private static partial class Log
    {
        [LoggerMessage(LogEvents.FaultSet, LogLevel.Information, "Fault {Kind} set on {Scope}: {Details}")]
        public static partial void Set(ILogger logger, string kind, string scope, string details);

        [LoggerMessage(LogEvents.FaultsCleared, LogLevel.Information, "Faults recovered: {Count} ended")]
        public static partial void Cleared(ILogger logger, int count);
    }
}
