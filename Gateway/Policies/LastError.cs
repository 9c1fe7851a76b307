using Gateway.Expressions;

namespace Gateway.Policies;

/// <summary><c>context.LastError</c>.</summary>
internal sealed record LastError(string Source, string Reason, string Message, string Scope, string Section, string Path, string PolicyId) : ILastError;
