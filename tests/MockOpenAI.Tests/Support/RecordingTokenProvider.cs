using System.Collections.Concurrent;
using Gateway.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace MockOpenAI.Tests.Support;

/// <summary>The gateway's managed-identity token provider, whichever it chose, with every token it handed out recorded.</summary>
internal sealed class RecordingTokenProvider(IManagedIdentityTokenProvider inner) : IManagedIdentityTokenProvider
{
    public ConcurrentQueue<string> Tokens { get; } = new();

    /// <summary>The provider the gateway chose (Identity:Provider).</summary>
    public IManagedIdentityTokenProvider Inner => inner;

    /// <summary>Wraps the provider the gateway's own wiring registered.</summary>
    public static void Decorate(IServiceCollection services)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IManagedIdentityTokenProvider));
        services.Remove(registered);
        services.AddSingleton(sp => new RecordingTokenProvider(registered.ImplementationFactory is { } factory
            ? (IManagedIdentityTokenProvider)factory(sp)
            : (IManagedIdentityTokenProvider)ActivatorUtilities.GetServiceOrCreateInstance(sp, registered.ImplementationType!)));
        services.AddSingleton<IManagedIdentityTokenProvider>(sp => sp.GetRequiredService<RecordingTokenProvider>());
    }

    public async ValueTask<AccessToken> GetTokenAsync(string resource, string? clientId, CancellationToken cancellationToken)
    {
        var token = await inner.GetTokenAsync(resource, clientId, cancellationToken);
        Tokens.Enqueue(token.Token);
        return token;
    }
}
