using Microsoft.Extensions.Time.Testing;
using MockOpenAI.Quota;

namespace MockOpenAI.Tests.Quota;

public class DeploymentQuotaTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));

    [Fact]
    public void New_Capacity_GivesAzuresLimits()
    {
        var quota = new DeploymentQuota(150, _time);

        Assert.Equal(150_000, quota.TokensPerMinute);
        Assert.Equal(900, quota.RequestsPerMinute);
        Assert.Equal(150, quota.RequestsPerWindow);
    }

    [Fact]
    public void TryAdmit_Tokens_AdmitsExactlyUpToTheQuota()
    {
        var quota = new DeploymentQuota(10, _time);

        Assert.True(quota.TryAdmit(4_000).Admitted);
        Assert.True(quota.TryAdmit(6_000).Admitted);
        var refused = quota.TryAdmit(1);

        Assert.Equal(QuotaLimit.Tokens, refused.RefusedBy);
        Assert.Equal(0, refused.RemainingTokens);
    }

    [Fact]
    public void TryAdmit_OverTokens_RetryAfterIsWhenEnoughTokensLeaveTheWindow()
    {
        var quota = new DeploymentQuota(10, _time);
        quota.TryAdmit(3_000);
        _time.Advance(TimeSpan.FromSeconds(5));
        quota.TryAdmit(3_000);
        _time.Advance(TimeSpan.FromSeconds(5));
        quota.TryAdmit(3_000);
        _time.Advance(TimeSpan.FromSeconds(2.5));

        // 9,000 charged; 4,000 more fits once the first charge (at 0 s) leaves the one-minute window: 60 - 12.5 s.
        var refused = quota.TryAdmit(4_000);

        Assert.Equal(QuotaLimit.Tokens, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(60 - 12.5), refused.RetryAfter);
        _time.Advance(refused.RetryAfter - TimeSpan.FromMilliseconds(1));
        Assert.False(quota.TryAdmit(4_000).Admitted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(quota.TryAdmit(4_000).Admitted);
        Assert.Equal(QuotaLimit.Tokens, quota.TryAdmit(1).RefusedBy);
    }

    [Fact]
    public void TryAdmit_NeedsSeveralChargesGone_WaitsForTheLastOfThem()
    {
        var quota = new DeploymentQuota(10, _time);
        quota.TryAdmit(3_000);
        _time.Advance(TimeSpan.FromSeconds(5));
        quota.TryAdmit(3_000);
        _time.Advance(TimeSpan.FromSeconds(5));
        quota.TryAdmit(3_000);

        // 9,000 charged; 7,000 more needs 6,000 gone: the charges at 0 s and 5 s, so until 65 s (55 s from now).
        Assert.Equal(TimeSpan.FromSeconds(55), quota.TryAdmit(7_000).RetryAfter);
    }

    [Fact]
    public void TryAdmit_Requests_AdmitsExactlyTheWindowsShareAndFreesAsItSlides()
    {
        var quota = new DeploymentQuota(10, _time);
        for (var i = 0; i < 10; i++)
        {
            Assert.True(quota.TryAdmit(1).Admitted, $"request {i + 1}");
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var refused = quota.TryAdmit(1);

        Assert.Equal(QuotaLimit.Requests, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(9), refused.RetryAfter);
        Assert.Equal(0, refused.RemainingRequests);
        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.True(quota.TryAdmit(1).Admitted);
        Assert.False(quota.TryAdmit(1).Admitted);
    }

    [Fact]
    public void TryAdmit_RefusedForTokensWhileTheCallWindowIsAlsoFull_RetryAfterCoversBoth()
    {
        // Capacity 2: 2,000 tokens a minute, 2 requests in any 10 s.
        var quota = new DeploymentQuota(2, _time);
        quota.TryAdmit(1_510);
        _time.Advance(TimeSpan.FromSeconds(52));
        quota.TryAdmit(10);
        _time.Advance(TimeSpan.FromSeconds(1));
        quota.TryAdmit(10);
        _time.Advance(TimeSpan.FromSeconds(2));

        // At 55 s: 600 tokens fit once the first charge leaves (60 s), a request once the one at 52 s leaves (62 s).
        var refused = quota.TryAdmit(600);

        Assert.Equal(QuotaLimit.Tokens, refused.RefusedBy);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.RetryAfter);
        _time.Advance(refused.RetryAfter);
        Assert.True(quota.TryAdmit(600).Admitted);
    }

    [Fact]
    public void TryAdmit_RefusedRequest_ChargesNothing()
    {
        var quota = new DeploymentQuota(1, _time);
        Assert.True(quota.TryAdmit(500).Admitted);

        Assert.False(quota.TryAdmit(600).Admitted);

        _time.Advance(TimeSpan.FromSeconds(10));
        var admitted = quota.TryAdmit(500);
        Assert.True(admitted.Admitted);
        Assert.Equal(0, admitted.RemainingTokens);
    }

    [Fact]
    public void TryAdmit_MoreThanAMinutesTokens_NeverFitsAndSaysAWholeWindow()
    {
        var refused = new DeploymentQuota(1, _time).TryAdmit(1_001);

        Assert.Equal(QuotaLimit.Tokens, refused.RefusedBy);
        Assert.Equal(DeploymentQuota.TokenWindow, refused.RetryAfter);
    }

    [Theory]
    [InlineData(0, "0ms")]
    [InlineData(850.2, "851ms")]
    [InlineData(6500, "6.5s")]
    [InlineData(60_000, "1m0s")]
    [InlineData(61_250, "1m1.25s")]
    public void Duration_UsesOpenAIsFormat(double milliseconds, string expected)
    {
        Assert.Equal(expected, QuotaHeaders.Duration(TimeSpan.FromMilliseconds(milliseconds)));
    }
}
