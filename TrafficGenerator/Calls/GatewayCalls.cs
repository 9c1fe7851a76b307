using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Responses;
using TrafficGenerator.Reporting;
using TrafficGenerator.Scheduling;

namespace TrafficGenerator.Calls;

/// <summary>
/// One official OpenAI client per subscription, pointed at the gateway's v1 surface, and the call each operation makes.
/// The clients live as long as the generator (one pipeline and connection pool each, never one per request).
/// </summary>
internal sealed class GatewayCalls
{
    /// <summary>What the client's own credential holds: not a secret (the subscription key travels in api-key).</summary>
    public const string UnusedCredential = "not-used-the-key-is-in-api-key";

    private static readonly string[] Prompts =
    [
        "Say hello in five words.",
        "Name three colours of the sea.",
        "Describe a quiet morning.",
        "What is a circuit breaker for?",
        "Count slowly to five.",
    ];

    private readonly TrafficOptions _options;
    private readonly Dictionary<string, OpenAIClient> _clients = new(StringComparer.Ordinal);

    /// <param name="options">The gateway, the keys and the deployments.</param>
    /// <param name="transport">The clients' transport; null for HTTP (tests give a stub).</param>
    public GatewayCalls(TrafficOptions options, PipelineTransport? transport = null)
    {
        _options = options;
        var endpoint = new Uri(_options.GatewayUrl!, "/openai/v1/");
        foreach (var (subscription, key) in _options.Subscriptions)
        {
            var clientOptions = new OpenAIClientOptions
            {
                Endpoint = endpoint,
                NetworkTimeout = _options.RequestTimeout,

                // Retries are a setting, off by default: see TrafficOptions.MaxRetries.
                RetryPolicy = new ClientRetryPolicy(_options.MaxRetries),
            };
            if (transport is not null)
            {
                clientOptions.Transport = transport;
            }

            clientOptions.AddPolicy(new ApiKeyHeaderPolicy(key), PipelinePosition.PerCall);
            // The client sends its credential as a bearer token; the key goes only in api-key (ApiKeyHeaderPolicy), so
            // that a policy which forwards Authorization can never pass the subscription key on to a backend.
            _clients[subscription] = new OpenAIClient(new ApiKeyCredential(UnusedCredential), clientOptions);
        }
    }

    /// <summary>Makes one call of <paramref name="operation"/> with <paramref name="subscription"/>'s key; throws what the client throws.</summary>
    public async Task CallAsync(string subscription, TrafficOperation operation, int sequence, CancellationToken cancellationToken)
    {
        var client = _clients[subscription];
        var prompt = Prompts[sequence % Prompts.Length];
        switch (operation)
        {
            case TrafficOperation.Chat:
                await client.GetChatClient(_options.ChatDeployment).CompleteChatAsync([new UserChatMessage(prompt)], ChatOptions(), cancellationToken);
                break;
            case TrafficOperation.StreamedChat:
                await foreach (var update in client.GetChatClient(_options.ChatDeployment).CompleteChatStreamingAsync([new UserChatMessage(prompt)], ChatOptions(), cancellationToken))
                {
                    // Read to the end: the stream's last chunk carries the usage the gateway counts.
                    _ = update;
                }

                break;
            case TrafficOperation.Responses:
                // Not stored: a generator running for hours would otherwise fill the accounts' response stores.
                var request = new CreateResponseOptions { Model = _options.ChatDeployment, MaxOutputTokenCount = _options.MaxOutputTokens, StoredOutputEnabled = false };
                request.InputItems.Add(ResponseItem.CreateUserMessageItem(prompt));
                await client.GetResponsesClient().CreateResponseAsync(request, cancellationToken);
                break;
            case TrafficOperation.Embeddings:
                await client.GetEmbeddingClient(_options.EmbeddingsDeployment).GenerateEmbeddingAsync(prompt, cancellationToken: cancellationToken);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(operation), operation, "Unknown operation.");
        }
    }

    /// <summary>
    /// What a failed call counts as: a 429 is throttling, the client's network timeout (a cancellation the generator did
    /// not ask for) a timeout, anything else an error. The status is the gateway's, 0 when none arrived.
    /// </summary>
    public static (TrafficOutcome Outcome, int Status) Classify(Exception exception, bool stopping) => exception switch
    {
        ClientResultException { Status: 429 } => (TrafficOutcome.Throttled, 429),
        ClientResultException result => (TrafficOutcome.Error, result.Status),
        OperationCanceledException when !stopping => (TrafficOutcome.Timeout, 0),
        _ => (TrafficOutcome.Error, 0),
    };

    private ChatCompletionOptions ChatOptions() => new() { MaxOutputTokenCount = _options.MaxOutputTokens };
}
