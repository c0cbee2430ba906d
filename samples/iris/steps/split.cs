// split: deterministic, stratified train/test split.
// Input:  artifacts/data/iris.clean.csv
// Output: artifacts/data/train.csv, artifacts/data/test.csv
// Parameters (env): PARAM_TestFraction (default 0.2), PARAM_Seed (default 42).
using System.Globalization;

const string InputPath = "artifacts/data/iris.clean.csv";
const string TrainPath = "artifacts/data/train.csv";
const string TestPath = "artifacts/data/test.csv";

var fractionText = Param("TestFraction", "0.2");
var seedText = Param("Seed", "42");
if (!double.TryParse(fractionText, NumberStyles.Float, CultureInfo.InvariantCulture, out var testFraction)
    || !(testFraction > 0 && testFraction < 1))
    return Fail($"PARAM_TestFraction must be a number between 0 and 1 (exclusive), got '{fractionText}'");
if (!ulong.TryParse(seedText, NumberStyles.None, CultureInfo.InvariantCulture, out var seed))
    return Fail($"PARAM_Seed must be a non-negative integer, got '{seedText}'");
if (!File.Exists(InputPath))
    return Fail($"{InputPath} not found: run load_data first");

var lines = File.ReadAllLines(InputPath);
if (lines.Length < 2)
    return Fail($"{InputPath} has no data rows");
var header = lines[0];
var train = new List<string>();
var test = new List<string>();
var rng = new SplitMix64(seed);

// Stratified: shuffle each species' rows and send the same fraction of each to the test set.
foreach (var group in lines.Skip(1).GroupBy(l => l[(l.LastIndexOf(',') + 1)..]).OrderBy(g => g.Key, StringComparer.Ordinal))
{
    var rows = group.ToArray();
    for (int i = rows.Length - 1; i > 0; i--) // Fisher-Yates
    {
        int j = (int)(rng.Next() % (ulong)(i + 1));
        (rows[i], rows[j]) = (rows[j], rows[i]);
    }
    // At least one row on each side, so every class is both trained on and tested.
    int nTest = Math.Clamp((int)Math.Round(rows.Length * testFraction, MidpointRounding.AwayFromZero), 1, Math.Max(1, rows.Length - 1));
    test.AddRange(rows.Take(nTest));
    train.AddRange(rows.Skip(nTest));
}

Directory.CreateDirectory(Path.GetDirectoryName(TrainPath)!);
File.WriteAllText(TrainPath, header + "\n" + string.Join("", train.Select(r => r + "\n")));
File.WriteAllText(TestPath, header + "\n" + string.Join("", test.Select(r => r + "\n")));

Console.WriteLine($"read {lines.Length - 1} rows from {InputPath} (test fraction {testFraction.ToString(CultureInfo.InvariantCulture)}, seed {seed})");
Console.WriteLine($"wrote {TrainPath} ({train.Count} rows) and {TestPath} ({test.Count} rows)");
return 0;

static string Param(string name, string fallback) =>
    Environment.GetEnvironmentVariable("PARAM_" + name) is { Length: > 0 } v ? v.Trim() : fallback;

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}

// A tiny PRNG of our own: System.Random's sequence is not guaranteed to stay the same across .NET versions,
// and the split must be reproducible wherever the pipeline runs (cached outputs depend on it).
sealed class SplitMix64(ulong state)
{
    public ulong Next()
    {
        ulong z = state += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }
}
