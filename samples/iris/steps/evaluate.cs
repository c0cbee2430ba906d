// evaluate: scores the trained model on the held-out test set.
// Input:  artifacts/model/model.zip (+ model.json if present), artifacts/data/test.csv
// Output: artifacts/metrics/metrics.json (everything), artifacts/metrics/scores.json (the flat scores the pipeline
//         records per run: the step's Metrics)
#:package Microsoft.ML@5.0.1
// ML.NET relies on reflection: a file-based app defaults to PublishAot=true, which turns on AOT warnings.
#:property PublishAot=false
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML;
using Microsoft.ML.Data;

const string ModelPath = "artifacts/model/model.zip";
const string InfoPath = "artifacts/model/model.json";
const string TestPath = "artifacts/data/test.csv";
const string MetricsPath = "artifacts/metrics/metrics.json";
const string ScoresPath = "artifacts/metrics/scores.json";

foreach (var path in new[] { ModelPath, TestPath })
    if (!File.Exists(path))
        return Fail($"{path} not found: run {(path == ModelPath ? "train" : "split")} first");

var ml = new MLContext(seed: 42);
ITransformer model;
try
{
    model = ml.Model.Load(ModelPath, out _);
}
catch (Exception e) when (e is InvalidDataException or FormatException or InvalidOperationException)
{
    return Fail($"{ModelPath} is not a valid ML.NET model: {e.Message}");
}

var test = ml.Data.LoadFromTextFile<IrisRow>(TestPath, separatorChar: ',', hasHeader: true);
var scored = model.Transform(test);
var metrics = ml.MulticlassClassification.Evaluate(scored);

// Per-class counts from the predictions themselves: test rows (support), predictions, correct ones, confusion.
var predictions = ml.Data.CreateEnumerable<Prediction>(scored, reuseRowObject: false).ToList();
if (predictions.Count == 0)
    return Fail($"{TestPath} has no data rows");
var classes = predictions.Select(p => p.Species).Concat(predictions.Select(p => p.PredictedSpecies))
    .Distinct().Order(StringComparer.Ordinal).ToList();
var perClass = new JsonObject();
var confusion = new JsonObject();
foreach (var c in classes)
{
    var actual = predictions.Where(p => p.Species == c).ToList();
    perClass[c] = new JsonObject
    {
        ["support"] = actual.Count,
        ["predicted"] = predictions.Count(p => p.PredictedSpecies == c),
        ["correct"] = actual.Count(p => p.PredictedSpecies == c),
    };
    var row = new JsonObject();
    foreach (var predicted in classes)
        row[predicted] = actual.Count(p => p.PredictedSpecies == predicted);
    confusion[c] = row;
}

var result = new JsonObject
{
    ["test_rows"] = predictions.Count,
    ["micro_accuracy"] = metrics.MicroAccuracy,
    ["macro_accuracy"] = metrics.MacroAccuracy,
    ["log_loss"] = metrics.LogLoss,
    ["log_loss_reduction"] = metrics.LogLossReduction,
    ["per_class"] = perClass,
    ["confusion_matrix"] = confusion, // actual species -> predicted species -> count
};
if (File.Exists(InfoPath))
    result["model"] = JsonNode.Parse(File.ReadAllText(InfoPath));

Directory.CreateDirectory(Path.GetDirectoryName(MetricsPath)!);
File.WriteAllText(MetricsPath, result.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
// A flat object of numbers, as the Metrics metadata asks: ListPipelineRuns shows them per run and PipelineCompare
// diffs them. Rounded, so a comparison shows the change that matters, not the 17th digit.
var scores = new JsonObject
{
    ["accuracy"] = Math.Round(metrics.MicroAccuracy, 4),
    ["macro_accuracy"] = Math.Round(metrics.MacroAccuracy, 4),
    ["log_loss"] = Math.Round(metrics.LogLoss, 4),
};
File.WriteAllText(ScoresPath, scores.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");

Console.WriteLine($"scored {predictions.Count} rows of {TestPath} with {ModelPath}");
Console.WriteLine($"accuracy {metrics.MicroAccuracy:P2} (macro {metrics.MacroAccuracy:P2}), log loss {metrics.LogLoss:F4}; wrote {MetricsPath} and {ScoresPath}");
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}

sealed class IrisRow
{
    [LoadColumn(0)] public float SepalLength { get; set; }
    [LoadColumn(1)] public float SepalWidth { get; set; }
    [LoadColumn(2)] public float PetalLength { get; set; }
    [LoadColumn(3)] public float PetalWidth { get; set; }
    [LoadColumn(4)] public string Species { get; set; } = "";
}

sealed class Prediction
{
    public string Species { get; set; } = "";
    public string PredictedSpecies { get; set; } = "";
}
