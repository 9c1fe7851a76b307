using System.Net;
using System.Text;

namespace AppHost.Tests;

/// <summary>
/// The first call to a freshly deployed gateway, repeated until Azure OpenAI accepts API Management's identity. Right
/// after <c>azd up</c> the role the identity was given on each account ("Cognitive Services OpenAI User") can take up to
/// 10 minutes to take effect (Azure RBAC), and until then the gateway relays the accounts' 401 or 403. Any other answer
/// ends the wait at once (the scenarios then judge it), and so does API Management's own 401 for a missing or wrong
/// subscription key, which no waiting fixes.
/// </summary>
/// <param name="http">The client the scenarios use.</param>
/// <param name="time">The clock the waits between calls use.</param>
/// <param name="timeout">How long to keep calling (configuration <c>Target:FirstCallTimeout</c>).</param>
/// <param name="interval">The pause between two calls.</param>
public sealed class DeployedFirstCall(HttpClient http, TimeProvider time, TimeSpan timeout, TimeSpan interval)
{
    /// <summary>A chat request any chat model takes (no max_tokens, which the gpt-5 family refuses).</summary>
    private const string Chat = """{"messages":[{"role":"user","content":"Hello"}]}""";

    /// <summary>Calls the gpt-4o deployment through the gateway until it answers other than a role-propagation 401/403.</summary>
    /// <returns>The status of the last answer and how many calls it took.</returns>
    /// <exception cref="TimeoutException">Still 401 or 403 from the accounts when the timeout ran out.</exception>
    public async Task<(HttpStatusCode Status, int Calls)> WaitAsync(Uri gatewayUrl, string subscriptionKey, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var url = new Uri(gatewayUrl, "openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21");
        for (var calls = 1; ; calls++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(Chat, Encoding.UTF8, "application/json") };
            request.Headers.Add("api-key", subscriptionKey);
            using var response = await http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!IsRolePropagation(response.StatusCode, body))
            {
                return (response.StatusCode, calls);
            }

            if (time.GetUtcNow() + interval > deadline)
            {
                throw new TimeoutException(
                    $"the deployed gateway still answers {(int)response.StatusCode} after {timeout} ({calls} calls): API Management's identity " +
                    $"cannot call Azure OpenAI yet. Check its 'Cognitive Services OpenAI User' role on each account. Last answer: {body}");
            }

            await Task.Delay(interval, time, cancellationToken);
        }
    }

    /// <summary>
    /// A 401 or 403 that is Azure OpenAI refusing the gateway's identity, not API Management refusing the caller's key
    /// (its bodies say "subscription key").
    /// </summary>
    public static bool IsRolePropagation(HttpStatusCode status, string body) =>
        status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
        && !body.Contains("subscription key", StringComparison.OrdinalIgnoreCase);
}
