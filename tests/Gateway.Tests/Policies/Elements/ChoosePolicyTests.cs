using Gateway.Apim;
using Gateway.Policies;
using Gateway.Tests.Support;

namespace Gateway.Tests.Policies.Elements;

public sealed class ChoosePolicyTests
{
    [Theory]
    [InlineData("<choose><otherwise><set-variable name=\"a\" value=\"1\" /></otherwise></choose>")]
    [InlineData("<choose />")]
    [Covers("choose")]
    public void Load_ChooseWithoutWhen_FailsAsApiManagementRefusesIt(string choose)
    {
        // Microsoft's policy toolkit keeps such a choose as raw XML because the gateway rejects it (docs/fidelity.md).
        var error = Assert.Throws<PolicyLoadException>(() => PolicyLoader.Load(
            $"<policies><inbound>{choose}</inbound></policies>", "policy.xml", PolicyScope.Api, new NamedValues(new Dictionary<string, string?>())));

        Assert.Contains("<choose> needs at least one <when> (API Management refuses a <choose> without one)", Assert.Single(error.Problems), StringComparison.Ordinal);
    }
}
