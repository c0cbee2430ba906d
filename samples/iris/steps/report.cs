// report: turns the evaluation metrics into a short Markdown report.
// Input:  artifacts/metrics/metrics.json     Output: artifacts/report/report.md
// Dependency-free. No timestamp in the report: the same metrics always give the same bytes.
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

const string MetricsPath = "artifacts/metrics/metrics.json";
const string ReportPath = "artifacts/report/report.md";

if (!File.Exists(MetricsPath))
    return Fail($"{MetricsPath} not found: run evaluate first");
JsonNode? metrics;
try
{
    metrics = JsonNode.Parse(File.ReadAllText(MetricsPath));
}
catch (JsonException e)
{
    return Fail($"{MetricsPath} is not valid JSON: {e.Message}");
}
if (Number(metrics, "micro_accuracy") is not double microAccuracy || Number(metrics, "macro_accuracy") is not double macroAccuracy)
    return Fail($"{MetricsPath} has no micro_accuracy/macro_accuracy: is it a metrics file written by evaluate?");

var inv = CultureInfo.InvariantCulture;
string Percent(double v) => (v * 100).ToString("0.00", inv) + " %";
var md = new StringBuilder();
md.Append("# Iris classifier report\n\n");
if (metrics!["model"] is JsonObject model)
{
    md.Append(inv, $"Model: {model["trainer"]}, gamma = {model["gamma"]}, rank {model["rank"]}, trained on {model["train_rows"]} rows");
    md.Append(Number(model, "train_micro_accuracy") is double trainAccuracy ? $" (training accuracy {Percent(trainAccuracy)}).\n\n" : ".\n\n");
}
md.Append(inv, $"Test set: {metrics["test_rows"]} rows.\n\n");
md.Append("| Metric | Value |\n|---|---|\n");
md.Append(inv, $"| Accuracy (micro) | {Percent(microAccuracy)} |\n");
md.Append(inv, $"| Accuracy (macro) | {Percent(macroAccuracy)} |\n");
if (Number(metrics, "log_loss") is double logLoss)
    md.Append(inv, $"| Log loss | {logLoss:0.0000} |\n");

if (metrics["per_class"] is JsonObject perClass)
{
    md.Append("\n| Species | Test rows | Predicted | Correct | Recall |\n|---|---|---|---|---|\n");
    foreach (var (name, counts) in perClass)
    {
        double support = Number(counts, "support") ?? 0, correct = Number(counts, "correct") ?? 0;
        var recall = support == 0 ? "n/a" : Percent(correct / support);
        md.Append(inv, $"| {name} | {support} | {counts?["predicted"]} | {correct} | {recall} |\n");
    }
}

Directory.CreateDirectory(Path.GetDirectoryName(ReportPath)!);
File.WriteAllText(ReportPath, md.ToString());

Console.WriteLine($"read {MetricsPath} (accuracy {Percent(microAccuracy)})");
Console.WriteLine($"wrote {ReportPath}");
return 0;

static double? Number(JsonNode? node, string name) =>
    node is JsonObject o && o[name] is JsonValue v && v.TryGetValue<double>(out var d) ? d : null;

static int Fail(string message)
{
    Console.Error.WriteLine($"error: {message}");
    return 1;
}
