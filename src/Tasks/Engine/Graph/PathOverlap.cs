using MLPipelines.Engine.Paths;

namespace MLPipelines.Engine.Graph;

/// <summary>Whether a declared input can read what a declared output writes; used to infer edges and find conflicts.</summary>
public static class PathOverlap
{
    public static bool InputReadsOutput(string input, string output)
    {
        if (!ProjectPath.IsGlob(input))
        {
            return ProjectPath.Overlaps(input, output);
        }

        return ProjectPath.IsDirectory(output)
            ? CanMatchBelow(input.Split('/'), 0, output.TrimEnd('/').Split('/'), 0)
            : new Glob(input).IsMatch(output);
    }

    /// <summary>
    /// Whether the glob segments from <paramref name="g"/> on can match some file below the directory segments from
    /// <paramref name="d"/> on: <c>*.csv</c> cannot reach into <c>model/</c>, <c>**/*.csv</c> and <c>model/*</c> can.
    /// </summary>
    private static bool CanMatchBelow(string[] g, int i, string[] d, int j)
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
            return CanMatchBelow(g, i + 1, d, j) || CanMatchBelow(g, i, d, j + 1);
        }

        if (g[i].Contains("**", StringComparison.Ordinal))
        {
            return true; // "a**b" crosses directories: assume it can.
        }

        return new Glob(g[i]).IsMatch(d[j]) && CanMatchBelow(g, i + 1, d, j + 1);
    }
}
