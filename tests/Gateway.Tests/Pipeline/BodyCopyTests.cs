using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

public class BodyCopyTests
{
    [Theory]
    [InlineData(null)]
    [InlineData(10L)]
    [InlineData(0L)]
    public void Read_PiecesPastTheFirstBuffer_GivesTheWholeBodyOnce(long? declaredLength)
    {
        var body = Enumerable.Range(0, 5000).Select(i => (byte)i).ToArray();
        var copy = new BodyCopy(declaredLength);

        foreach (var piece in body.Chunk(700))
        {
            copy.Append(piece);
        }

        Assert.Equal(body, copy.Read(0, static (bytes, _) => bytes.ToArray()));

        // Its buffer went back to the pool: what comes after is not kept.
        copy.Append(body);
        Assert.Null(copy.Read(0, static (bytes, _) => bytes.ToArray()));
    }

    [Fact]
    public void Read_ReaderThrows_GivesTheBufferBackAllTheSame()
    {
        var copy = new BodyCopy(declaredLength: 3);
        copy.Append([1, 2, 3]);

        Assert.Throws<InvalidOperationException>(() => { copy.Read(0, static int (_, _) => throw new InvalidOperationException()); });
        Assert.Null(copy.Read(0, static (bytes, _) => bytes.ToArray()));
    }

    [Fact]
    public void Read_BodyThatGrowsPastTheLimit_IsDroppedAndReadsAsNothing()
    {
        var copy = new BodyCopy(declaredLength: null);

        copy.Append(new byte[BodyCopy.MaxBytes]);
        copy.Append(new byte[1]);
        copy.Append(new byte[1]);

        Assert.Null(copy.Read(0, static (bytes, _) => bytes.ToArray()));
    }

    [Fact]
    public void Read_BodyDeclaredPastTheLimit_CopiesNothing()
    {
        var copy = new BodyCopy(BodyCopy.MaxBytes + 1L);

        copy.Append(new byte[16]);

        Assert.Null(copy.Read(0, static (bytes, _) => bytes.ToArray()));
    }

    [Fact]
    public void Read_BodyOfExactlyTheLimit_IsKept()
    {
        var copy = new BodyCopy(declaredLength: null);

        copy.Append(new byte[BodyCopy.MaxBytes - 1]);
        copy.Append(new byte[1]);

        Assert.Equal(BodyCopy.MaxBytes, copy.Read(0, static (bytes, _) => bytes.Length));
    }
}
