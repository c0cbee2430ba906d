// load_data: reads the raw iris data, validates it and writes a normalised copy.
// Input:  data/iris.csv               Output: artifacts/data/iris.clean.csv
// Dependency-free on purpose, so the step builds and starts fast.
using System.Globalization;

const string InputPath = "data/iris.csv";
const string OutputPath = "artifacts/data/iris.clean.csv";
const string Header = "sepal_length,sepal_width,petal_length,petal_width,species";
const int ExpectedRows = 150;
string[] species = ["setosa", "versicolor", "virginica"];

if (!File.Exists(InputPath))
    return Fail($"{InputPath} not found (current directory: {Environment.CurrentDirectory})");

var lines = File.ReadAllLines(InputPath);
if (lines.Length == 0 || lines[0].Trim() != Header)
    return Fail($"{InputPath}: the first line must be the header '{Header}'");

var rows = new List<string>();
var perSpecies = species.ToDictionary(s => s, _ => 0);
for (int i = 1; i < lines.Length; i++)
{
    if (lines[i].Trim().Length == 0)
        continue; // tolerate blank lines (e.g. a trailing one)
    var fields = lines[i].Split(',').Select(f => f.Trim()).ToArray();
    if (fields.Length != 5)
        return Fail($"{InputPath}:{i + 1}: expected 5 fields, found {fields.Length}");
    var features = new double[4];
    for (int f = 0; f < 4; f++)
        if (!double.TryParse(fields[f], NumberStyles.Float, CultureInfo.InvariantCulture, out features[f])
            || !double.IsFinite(features[f]) || features[f] <= 0)
            return Fail($"{InputPath}:{i + 1}: '{fields[f]}' is not a positive number");
    var label = fields[4].StartsWith("Iris-", StringComparison.Ordinal) ? fields[4][5..] : fields[4]; // UCI spelling
    if (!perSpecies.ContainsKey(label))
        return Fail($"{InputPath}:{i + 1}: unknown species '{fields[4]}' (expected {string.Join(", ", species)})");
    perSpecies[label]++;
    rows.Add(string.Join(',', features.Select(v => v.ToString("0.0##", CultureInfo.InvariantCulture))) + "," + label);
}
if (rows.Count != ExpectedRows)
    return Fail($"{InputPath}: expected {ExpectedRows} data rows, found {rows.Count}");

Directory.CreateDirectory(Path.GetDirectoryName(OutputPath)!);
// '\n' line endings whatever the OS, so the output's hash (and the next steps' cache keys) is the same everywhere.
File.WriteAllText(OutputPath, Header + "\n" + string.Join("", rows.Select(r => r + "\n")));

Console.WriteLine($"read {rows.Count} rows from {InputPath} ({string.Join(", ", perSpecies.Select(p => $"{p.Key} {p.Value}"))})");
Console.WriteLine($"wrote {OutputPath}");
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}
