using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Gateway.Admin;

internal static class ResettableStateServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="TState"/> as a singleton, and as an <see cref="IResettableState"/> the admin endpoint resets.</summary>
    public static IServiceCollection AddResettableState<TState>(this IServiceCollection services)
        where TState : class, IResettableState
    {
        services.TryAddSingleton<TState>();
        services.AddSingleton<IResettableState>(provider => provider.GetRequiredService<TState>());
        return services;
    }
}
