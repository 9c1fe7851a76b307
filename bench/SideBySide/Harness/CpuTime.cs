namespace Gateway.Bench.SideBySide.Harness;

/// <summary>A process's CPU time in user mode (utime) and in the kernel on its behalf (stime), in seconds.</summary>
internal readonly record struct CpuTime(double User, double System)
{
    public double Total => User + System;

    public static CpuTime operator -(CpuTime after, CpuTime before) => new(after.User - before.User, after.System - before.System);
}
