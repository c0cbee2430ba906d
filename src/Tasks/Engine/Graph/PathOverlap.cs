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

        var glob = new Glob(input);
        return ProjectPath.IsDirectory(output)
            ? ProjectPath.Overlaps(output, glob.BaseDirectory)
            : glob.IsMatch(output);
    }
}
