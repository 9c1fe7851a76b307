namespace MockOpenAI.Server;

/// <summary>
/// The event id of every log event the mock writes, in one place so that each is unique: a hundred ids per area. A new
/// event takes the next free id of its area.
/// </summary>
internal static class LogEvents
{
    // 1xx: the account server.
    public const int AccountStarted = 100;

    // 2xx: account-wide faults (/__mock/faults).
    public const int FaultSet = 200;
    public const int FaultsCleared = 201;
}
