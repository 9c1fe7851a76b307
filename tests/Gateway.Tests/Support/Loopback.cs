using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Support;

/// <summary>Addresses on this machine for tests.</summary>
internal static class Loopback
{
    /// <summary>An http URL on a loopback port nothing listens on (it was free a moment ago): connecting to it is refused.</summary>
    public static string ClosedPortUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return $"http://127.0.0.1:{port}";
    }
}
