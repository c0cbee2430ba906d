// Compares Microsoft.Extensions.FileSystemGlobbing with our Glob/InputFiles (issue 11 item 17; README "Globs are matched by"):
// `dotnet run --file build/glob-probe.cs -c Release`. Not part of any build or test.
#:package Microsoft.Extensions.FileSystemGlobbing@10.0.15
#:project ../src/Tasks/MLPipelines.Tasks.csproj
#:property TreatWarningsAsErrors=false
#:property ManagePackageVersionsCentrally=false
using System.Diagnostics;
using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.FileSystemGlobbing.Abstractions;
using MLPipelines.Engine.Paths;

var root = Path.Combine(Path.GetTempPath(), "eco-glob-probe");
if (Directory.Exists(root)) Directory.Delete(root, true);
Directory.CreateDirectory(root);
void W(string rel) { var p = Path.Combine(root, rel); Directory.CreateDirectory(Path.GetDirectoryName(p)!); File.WriteAllText(p, rel); }
W("data/a.csv"); W("data/b.CSV"); W("data/.hidden.csv"); W("data/sub/c.csv"); W("data/x1.txt"); W("data/x22.txt");
W("real/d.csv");
File.CreateSymbolicLink(Path.Combine(root, "data/linked"), Path.Combine(root, "real"));
File.CreateSymbolicLink(Path.Combine(root, "data/loop"), Path.Combine(root, "data"));
File.CreateSymbolicLink(Path.Combine(root, "data/dangling.csv"), Path.Combine(root, "nowhere.csv"));

string[] patterns = ["data/*.csv", "data/**/*.csv", "data/x?.txt", "data/**", "**/d.csv"];
foreach (var pattern in patterns)
{
    var ours = new Glob(pattern).EnumerateFiles(root).ToList();
    List<string> theirs;
    try
    {
        var m = new Matcher(StringComparison.Ordinal);
        m.AddInclude(pattern);
        var sw = Stopwatch.StartNew();
        theirs = m.Execute(new DirectoryInfoWrapper(new DirectoryInfo(root))).Files.Select(f => f.Path).Take(50).ToList();
    }
    catch (Exception e) { theirs = ["THREW " + e.GetType().Name + ": " + e.Message.Split('\n')[0]]; }
    Console.WriteLine($"{pattern}\n  ours:   {string.Join(", ", ours)}\n  theirs: {string.Join(", ", theirs)}{(theirs.Count == 50 ? " ... (50+)" : "")}");
}
// In-memory matching over our own enumeration (Matcher.Match(root, files)).
{
    var m = new Matcher(StringComparison.Ordinal); m.AddInclude("data/x?.txt"); m.AddInclude("data/*.csv");
    var files = InputFiles.FilesBelow(root).Select(f => Path.GetRelativePath(root, f));
    Console.WriteLine("in-memory over our listing: " + string.Join(", ", m.Match(root, files).Files.Select(f => f.Path)));
}

// Timing: 5000 files.
var big = Path.Combine(root, "big");
for (int i = 0; i < 50; i++) for (int j = 0; j < 100; j++) { var d = Path.Combine(big, $"d{i}"); Directory.CreateDirectory(d); File.WriteAllText(Path.Combine(d, $"f{j}.csv"), "x"); }
foreach (var pattern in new[] { "big/**/*.csv", "big/d1*/*.csv" })
{
    double Best(Func<int> f) { var best = double.MaxValue; int n = 0; for (int r = 0; r < 7; r++) { var sw = Stopwatch.StartNew(); n = f(); best = Math.Min(best, sw.Elapsed.TotalMilliseconds); } Console.WriteLine($"    n={n}"); return best; }
    var o = Best(() => new Glob(pattern).EnumerateFiles(root).Count());
    var t = Best(() => { var m = new Matcher(StringComparison.Ordinal); m.AddInclude(pattern); return m.Execute(new DirectoryInfoWrapper(new DirectoryInfo(root))).Files.Count(); });
    var h = Best(() => { var m = new Matcher(StringComparison.Ordinal); m.AddInclude(pattern); return m.Match(root, InputFiles.FilesBelow(Path.Combine(root, "big")).Select(f => Path.GetRelativePath(root, f))).Files.Count(); });
    Console.WriteLine($"{pattern}: ours {o:F1} ms, FileSystemGlobbing (its own walk) {t:F1} ms, FileSystemGlobbing over our walk {h:F1} ms (best of 7)");
}
