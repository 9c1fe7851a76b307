using System.Text;

namespace Gateway.Tests.Support;

/// <summary>
/// The API policy document most tests write: their own elements in each section, in API Management's order. A section
/// left null is omitted, so it inherits the global policy's as in API Management; one given as "" is there and empty.
/// Write the XML out instead where its exact text is what a test is about.
/// </summary>
internal static class TestPolicy
{
    /// <summary>Routes the request to East US 2's gpt-4o backend, which the test host points at the test's backend.</summary>
    public const string ToEastUs2 = """<set-backend-service backend-id="aoai-eastus2-gpt-4o" />""";

    public const string Forward = "<forward-request />";

    /// <summary>Forwards without buffering the response, so a streamed answer reaches the client as it comes.</summary>
    public const string ForwardUnbuffered = """<forward-request buffer-response="false" />""";

    /// <summary>Sets <c>x-error</c> to <c>context.LastError</c>'s source and reason ("source|reason").</summary>
    public const string ErrorHeader = """<set-header name="x-error" exists-action="override"><value>@(context.LastError.Source + "|" + context.LastError.Reason)</value></set-header>""";

    public static string With(string? inbound = null, string? backend = Forward, string? outbound = null, string? onError = null)
    {
        var document = new StringBuilder("<policies>\n");
        Section(document, "inbound", inbound);
        Section(document, "backend", backend);
        Section(document, "outbound", outbound);
        Section(document, "on-error", onError);
        return document.Append("</policies>\n").ToString();
    }

    /// <summary>An on-error that answers <paramref name="status"/> with the <see cref="ErrorHeader"/>.</summary>
    public static string AnswerWithError(int status, string reason) => $"""
        <return-response>
          <set-status code="{status}" reason="{reason}" />
          {ErrorHeader}
        </return-response>
        """;

    private static void Section(StringBuilder document, string name, string? elements)
    {
        if (elements is not null)
        {
            document.Append("  <").Append(name).Append(">\n").Append(elements).Append("\n  </").Append(name).Append(">\n");
        }
    }
}
