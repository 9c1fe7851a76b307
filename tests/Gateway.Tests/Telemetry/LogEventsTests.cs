using System.Reflection;
using Gateway.Telemetry;
using Microsoft.Extensions.Logging;

namespace Gateway.Tests.Telemetry;

public sealed class LogEventsTests
{
    [Fact]
    public void LoggerMessages_InTheGatewayAssembly_HaveUniqueIds()
    {
        var duplicates = LoggerMessages()
            .GroupBy(message => message.EventId)
            .Where(group => group.Count() > 1)
            .Select(group => $"{group.Key}: {string.Join(", ", group.Select(message => message.Method))}")
            .ToList();

        Assert.NotEmpty(LoggerMessages());
        Assert.True(duplicates.Count == 0, "Event ids used more than once: " + string.Join("; ", duplicates));
    }

    [Fact]
    public void LogEvents_EveryConstant_IsDistinctAndUsed()
    {
        var declared = typeof(LogEvents).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Select(field => (field.Name, Id: (int)field.GetRawConstantValue()!))
            .ToList();
        var used = LoggerMessages().Select(message => message.EventId).ToHashSet();

        Assert.Empty(declared.GroupBy(constant => constant.Id).Where(group => group.Count() > 1).Select(group => string.Join(" = ", group.Select(constant => constant.Name))));
        Assert.Empty(LoggerMessages().Where(message => !declared.Exists(constant => constant.Id == message.EventId)).Select(message => $"{message.Method} uses {message.EventId}, not a LogEvents id"));
        Assert.Empty(declared.Where(constant => !used.Contains(constant.Id)).Select(constant => constant.Name));
    }

    private static IEnumerable<(string Method, int EventId)> LoggerMessages() =>
        typeof(LogEvents).Assembly.GetTypes()
            .SelectMany(type => type.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .SelectMany(method => method.GetCustomAttributes<LoggerMessageAttribute>().Select(attribute => ($"{method.DeclaringType!.FullName}.{method.Name}", attribute.EventId)));
}
