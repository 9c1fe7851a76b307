namespace Gateway.Tokens;

/// <summary>Tokens a request was charged in a token window or quota period; settled once with what it consumed.</summary>
/// <param name="gate">The lock of the counters the charge belongs to.</param>
/// <param name="charged">The tokens charged when the request was admitted.</param>
/// <param name="settle">Replaces the charge in the counters with the tokens given.</param>
internal sealed class TokenCharge(Lock gate, long charged, Action<long> settle)
{
    private bool _settled;

    /// <summary>The tokens charged now (until settled).</summary>
    public long Tokens { get; private set; } = charged;

    /// <summary>Replaces the charge with what the request consumed; later calls do nothing.</summary>
    public void Settle(long tokens)
    {
        lock (gate)
        {
            if (_settled)
            {
                return;
            }

            _settled = true;
            settle(tokens);
            Tokens = tokens;
        }
    }
}
