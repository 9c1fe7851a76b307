using System.Text;
using System.Xml.Linq;
using Gateway.Pipeline;
using Gateway.Policies;

namespace Gateway.Tests.Pipeline;

public class MessageBodyTests
{
    [Fact]
    public void Read_XDocumentWithADtd_IsRefusedAsNotXml()
    {
        var body = Encoding.UTF8.GetBytes("""<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e "x">]><r>&e;</r>""");

        var error = Assert.Throws<PolicyExecutionException>(() => MessageBody.Read<XDocument>(body));

        Assert.StartsWith("The body is not XML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_XNode_IsTheRootElement()
    {
        var node = MessageBody.Read<XNode>(Encoding.UTF8.GetBytes("""<?xml version="1.0"?><r a="1"/>"""));

        Assert.Equal("r", Assert.IsType<XElement>(node).Name.LocalName);
    }

    [Fact]
    public void ReadForm_EmptyBody_IsAnEmptyForm()
    {
        Assert.Empty(MessageBody.ReadForm([]));
    }
}
