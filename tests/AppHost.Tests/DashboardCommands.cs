using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.Extensions.DependencyInjection;

namespace AppHost.Tests;

/// <summary>Runs the AppHost's dashboard commands (AppHost/DashboardCommands.cs) as the dashboard's buttons do.</summary>
internal static class DashboardCommands
{
    /// <summary>Runs <paramref name="command"/> on <paramref name="resource"/> with the values a person would type; fails the test when it fails.</summary>
    public static async Task<ExecuteCommandResult> RunAsync(DistributedApplication app, string resource, string command, CancellationToken cancellationToken, params (string Name, string Value)[] arguments)
    {
        var commands = app.Services.GetRequiredService<ResourceCommandService>();
        var result = arguments.Length == 0
            ? await commands.ExecuteCommandAsync(resource, command, cancellationToken)
            : await commands.ExecuteCommandAsync(resource, command, Arguments(arguments), cancellationToken);
        return result;
    }

#pragma warning disable ASPIREINTERACTION001 // Command arguments are InteractionInputs, experimental in Aspire 13.6.
    private static InteractionInputCollection Arguments((string Name, string Value)[] values) =>
        new([.. values.Select(v => new InteractionInput { Name = v.Name, InputType = InputType.Text, Value = v.Value })]);
#pragma warning restore ASPIREINTERACTION001
}
