using MLPipelines.Engine.Keys;

namespace MLPipelines.Tasks.Tests.Keys;

public sealed class KeyFolderTests
{
    [Fact]
    public void TheOrderComponentsArriveInDoesNotMatter()
    {
        KeyComponent a = new("input", "a.csv", "11"), b = new("input", "b.csv", "22"), c = new("code", "x.cs", "33");

        var first = KeyFolder.Fold([a, b, c]);
        var second = KeyFolder.Fold([c, b, a]);

        Assert.Equal(first.Value, second.Value);
        Assert.Equal([c, a, b], first.Components);
    }

    [Fact]
    public void ComponentBoundariesAreUnambiguous()
    {
        Assert.NotEqual(KeyFolder.Fold([new("input", "ab", "c")]).Value, KeyFolder.Fold([new("input", "a", "bc")]).Value);
        Assert.NotEqual(KeyFolder.Fold([new("inp", "ut", "x")]).Value, KeyFolder.Fold([new("input", "", "x")]).Value);
    }

    [Fact]
    public void StoredValuesAreNotPartOfTheKey()
    {
        Assert.Equal(KeyFolder.Fold([new("param", "A", "h", "1")]).Value, KeyFolder.Fold([new("param", "A", "h")]).Value);
    }
}
