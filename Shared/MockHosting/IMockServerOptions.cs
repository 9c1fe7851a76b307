namespace MockHosting;

/// <summary>The settings every mock account's WireMock server starts with (<see cref="MockServer.Start"/>).</summary>
internal interface IMockServerOptions
{
    /// <summary>The user name of WireMock's admin API (<c>/__admin</c>), with <see cref="AdminPassword"/>.</summary>
    string AdminUsername { get; }

    /// <summary>The password of WireMock's admin API (HTTP Basic). Without one the admin API is off.</summary>
    string? AdminPassword { get; }

    /// <summary>How many requests the journal keeps (oldest dropped first).</summary>
    int JournalSize { get; }
}
