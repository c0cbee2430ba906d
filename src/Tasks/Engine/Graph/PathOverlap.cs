using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Graph;

/// <summary>Whether a declared input can read what a declared output writes; used to infer edges and find conflicts.</summary>
public static class PathOverlap
{
    public static bool InputReadsOutput(string input, string output) => Reader(input)(output);

    /// <summary>
    /// <see cref="InputReadsOutput"/> for one input against many outputs: a glob's patterns are compiled once, not once
    /// per output (a compiled pattern costs tens of microseconds; the graph asks every candidate producer).
    /// </summary>
    public static Func<string, bool> Reader(string input)
    {
        if (!ProjectPath.IsGlob(input))
        {
            return output => ProjectPath.Overlaps(input, output);
        }

        var whole = new Lazy<Glob>(() => new Glob(input), LazyThreadSafetyMode.None);
        var segments = input.Split('/');
        var segmentGlobs = new Glob?[segments.Length];
        return output => ProjectPath.IsDirectory(output)
            ? CanMatchBelow(segments, segmentGlobs, 0, output.TrimEnd('/').Split('/'), 0)
            : whole.Value.IsMatch(output);
    }

    /// <summary>
    /// Whether the glob segments from <paramref name="g"/> on can match some file below the directory segments from
    /// <paramref name="d"/> on: <c>*.csv</c> cannot reach into <c>model/</c>, <c>**/*.csv</c> and <c>model/*</c> can.
    /// <paramref name="globs"/> holds each segment's compiled pattern once it was needed.
    /// </summary>
    private static bool CanMatchBelow(string[] g, Glob?[] globs, int i, string[] d, int j)
    {
        if (j == d.Length)
        {
            return i < g.Length; // Any segments left name something below the directory.
        }

        if (i == g.Length)
        {
            return false; // The pattern ends above or at a directory: it names no file below it.
        }

        if (g[i] == "**")
        {
            return CanMatchBelow(g, globs, i + 1, d, j) || CanMatchBelow(g, globs, i, d, j + 1);
        }

        if (g[i].Contains("**", StringComparison.Ordinal))
        {
            return true; // "a**b" crosses directories: assume it can.
        }

        return (globs[i] ??= new Glob(g[i])).IsMatch(d[j]) && CanMatchBelow(g, globs, i + 1, d, j + 1);
    }
}
