using System.Net;

namespace Gateway.Expressions;

/// <summary>API Management's helper on the form data <c>Body.AsFormUrlEncodedContent()</c> returns.</summary>
public static class FormExtensions
{
    /// <summary>
    /// The form as <c>name=value</c> pairs joined with <c>&amp;</c>, names and values URL-encoded, a name with several
    /// values repeated once per value, in the dictionary's order; no leading <c>?</c>.
    /// </summary>
    public static string ToQueryString(this IDictionary<string, IList<string>> form)
    {
        ArgumentNullException.ThrowIfNull(form);
        return string.Join("&", form.SelectMany(p => p.Value.Select(v => WebUtility.UrlEncode(p.Key) + "=" + WebUtility.UrlEncode(v))));
    }
}
