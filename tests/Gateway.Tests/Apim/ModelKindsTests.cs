using Gateway.Apim.Model;

namespace Gateway.Tests.Apim;

public sealed class ModelKindsTests
{
    [Theory]
    [InlineData("gpt-4o", "Chat")]
    [InlineData("gpt-5.1", "Chat")]
    [InlineData("o4-mini", "Chat")]
    [InlineData("text-embedding-3-small", "Embeddings")]
    [InlineData("Text-Embedding-Ada-002", "Embeddings")]
    [InlineData("gpt-35-turbo-instruct", "Completions")]
    [InlineData("davinci-002", "Completions")]
    [InlineData("babbage-002", "Completions")]
    public void Of_EmbeddingModelsByName_InstructAndBaseModelsTakeCompletions_TheRestChat(string model, string kind)
    {
        var expected = Enum.Parse<ModelKind>(kind);

        Assert.Equal(expected, ModelKinds.Of(model));
        Assert.Equal(expected, new ModelDefinition("OpenAI", model, "1").Kind);
    }
}
