namespace MLPipelines.Sdk.EndToEnd.TestKit;

/// <summary>
/// The one collection of end-to-end tests: every test class that builds against the package joins it with
/// <c>[Collection(EndToEndSuite.Name)]</c> and takes an <see cref="SdkPackage"/> in its constructor.
/// </summary>
[CollectionDefinition(Name)]
public sealed class EndToEndSuite : ICollectionFixture<SdkPackage>
{
    public const string Name = "End-to-end";
}
