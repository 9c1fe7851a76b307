using Gateway.Pipeline;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Gateway.Policies.Elements;

/// <summary>A <c>claim</c> of <c>required-claims</c>: it must be present and, with values, hold all or any of them.</summary>
internal sealed record JwtRequiredClaim(string Name, bool MatchAll, string? Separator, IReadOnlyList<PolicyValue> Values)
{
    /// <summary>The <c>claim</c> children of a <c>required-claims</c> element.</summary>
    public static IReadOnlyList<JwtRequiredClaim> ParseAll(ElementReader requiredClaims)
    {
        var claims = new List<JwtRequiredClaim>();
        var elements = requiredClaims.Children("claim");
        for (var i = 0; i < elements.Count; i++)
        {
            if (Parse(requiredClaims.Reader(elements[i], i + 1)) is { } claim)
            {
                claims.Add(claim);
            }
        }

        return claims;
    }

    /// <summary>
    /// Checks the claims as API Management does: every named claim present (TokenClaimNotFound, all missing names
    /// listed), then each one's values (TokenClaimValueNotAllowed, the token's values comma-joined).
    /// </summary>
    /// <param name="claims">The required claims.</param>
    /// <param name="context">The request, for the values' expressions.</param>
    /// <param name="element">The validating element.</param>
    /// <param name="token">The validated token (its inner token when it was encrypted).</param>
    /// <param name="failure">Makes the exception for a reason and message.</param>
    public static void Check(IReadOnlyList<JwtRequiredClaim> claims, RequestContext context, string element, JsonWebToken token, Func<string, string, PolicyExecutionException> failure)
    {
        if (claims.Count == 0)
        {
            return;
        }

        var present = token.Claims.GroupBy(c => c.Type, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(c => c.Value).ToArray(), StringComparer.Ordinal);
        var missing = claims.Where(c => !present.ContainsKey(c.Name)).Select(c => c.Name).Distinct(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw failure(ErrorReasons.TokenClaimNotFound, $"JWT token is missing the following claims: {string.Join(", ", missing)}. Access denied.");
        }

        foreach (var claim in claims.Where(c => c.Values.Count > 0))
        {
            var values = present[claim.Name];
            var actual = claim.Separator is null
                ? values
                : values.SelectMany(v => v.Split(claim.Separator, StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToArray();
            var expected = claim.Values.Select(v => v.EvaluateString(context, element) ?? string.Empty).ToList();
            var matched = claim.MatchAll
                ? expected.All(e => actual.Contains(e, StringComparer.Ordinal))
                : expected.Any(e => actual.Contains(e, StringComparer.Ordinal));
            if (!matched)
            {
                throw failure(ErrorReasons.TokenClaimValueNotAllowed, $"Claim {claim.Name} value of {string.Join(",", values)} is not allowed. Access denied.");
            }
        }
    }

    private static JwtRequiredClaim? Parse(ElementReader claim)
    {
        var name = claim.Literal("name", required: true);
        var match = claim.Literal("match") ?? "all";
        if (match is not ("all" or "any"))
        {
            claim.Error($"attribute 'match' of <claim> must be all or any, not '{match}'");
        }

        var separator = claim.Literal("separator");
        var values = claim.Children("value").Select(v => claim.TextValue(v)).ToList();
        claim.Finish();
        return name is null ? null : new JwtRequiredClaim(name, match != "any", string.IsNullOrEmpty(separator) ? null : separator, values);
    }
}
