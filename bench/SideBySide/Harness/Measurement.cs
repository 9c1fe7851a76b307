namespace Gateway.Bench.SideBySide.Harness;

/// <summary>One target in one round.</summary>
/// <param name="Target">The target measured.</param>
/// <param name="Round">The round, from 1.</param>
/// <param name="SaturatedRps">Requests per second under <c>wrk -t1 -c32</c>.</param>
/// <param name="CpuMicrosecondsPerRequest">The target process's utime + stime during the saturated load, per request.</param>
/// <param name="SystemMicrosecondsPerRequest">The stime part of it: the kernel's work on the process's behalf.</param>
/// <param name="PacedP50Ms">Latency median under the paced load (4 connections, 1 ms think time); NaN in a round without one.</param>
/// <param name="PacedP99Ms">Latency 99th percentile under the paced load; NaN in a round without one.</param>
internal sealed record Measurement(
    Target Target,
    int Round,
    double SaturatedRps,
    double CpuMicrosecondsPerRequest,
    double SystemMicrosecondsPerRequest,
    double PacedP50Ms,
    double PacedP99Ms);
