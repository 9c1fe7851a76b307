using Microsoft.Extensions.Options;

namespace MockOpenAI.Server;

/// <summary>The configured random error rate (<c>MockOpenAI:ErrorRate</c>), drawn from an injected random source.</summary>
internal sealed class RandomFaults(IOptions<MockOpenAIOptions> options, Random random)
{
    private readonly Lock _lock = new();

    public bool NextFails()
    {
        var rate = options.Value.ErrorRate;
        if (rate <= 0)
        {
            return false;
        }

        lock (_lock)
        {
            return random.NextDouble() < rate;
        }
    }
}
