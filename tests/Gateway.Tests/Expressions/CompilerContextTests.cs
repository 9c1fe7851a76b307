using Gateway.Expressions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Expressions;

public class CompilerContextTests
{
    private const string Source = "public static class C { public static int F() { return 1; } }";

    private static readonly string[] References = [typeof(object).Assembly.Location];

    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Compile_ThenIdleForTheDelay_UnloadsTheCompiler()
    {
        var compiler = new CompilerContext(_time, AppContext.BaseDirectory);

        var (image, errors) = compiler.Compile("C1", Source, "policy.xml", References, _ => true);

        Assert.NotNull(image);
        Assert.Empty(errors);
        Assert.True(compiler.IsLoaded);
        _time.Advance(CompilerContext.IdleDelay);
        Assert.False(compiler.IsLoaded);
    }

    [Fact]
    public void Compile_AfterAnUnload_LoadsTheCompilerAgain()
    {
        var compiler = new CompilerContext(_time, AppContext.BaseDirectory);
        CompileOnce(compiler);
        compiler.UnloadIfIdle();

        var (image, errors) = compiler.Compile("C2", Source.Replace("return 1", "return x", StringComparison.Ordinal), "policy.xml", References, _ => true);

        Assert.Null(image);
        Assert.Contains(errors, e => e.Message.StartsWith("error CS0103:", StringComparison.Ordinal));
    }

    private static void CompileOnce(CompilerContext compiler) =>
        Assert.NotNull(compiler.Compile("C0", Source, "policy.xml", References, _ => true).Image);
}
