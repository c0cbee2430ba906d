namespace MLPipelines.Engine.Paths;

/// <summary>
/// Values filed under project paths, found by how their path relates to another, as <see cref="ProjectPath.IsUnder"/>
/// and <see cref="ProjectPath.Overlaps"/> judge it: a lookup per segment of the asked path instead of a comparison
/// with every filed path. This is what keeps the graph's checks near-linear in the number of steps (issue 9): "which
/// outputs does this input overlap" asked of every step was a loop over every pair.
/// </summary>
public sealed class PathIndex<T>
{
    // By path without its trailing '/': the values filed at exactly that path.
    private readonly Dictionary<string, List<T>> _at;
    // By every proper ancestor ("a", "a/b" for "a/b/c"): the values filed below it.
    private readonly Dictionary<string, List<T>> _below;
    // Values filed at the project root ("" or "/"), which every path lies under.
    private readonly List<T> _root = [];
    private readonly List<T> _all = [];

    public PathIndex()
    {
        var comparer = StringComparer.FromComparison(ProjectPath.PathComparison);
        _at = new Dictionary<string, List<T>>(comparer);
        _below = new Dictionary<string, List<T>>(comparer);
    }

    public void Add(string path, T value)
    {
        _all.Add(value);
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            _root.Add(value);
            return;
        }

        Append(_at, trimmed, value);
        for (var i = trimmed.IndexOf('/', 1); i > 0; i = trimmed.IndexOf('/', i + 1))
        {
            Append(_below, trimmed[..i], value);
        }
    }

    /// <summary>The values whose path <paramref name="path"/> is or lies below: <c>IsUnder(path, filed)</c>.</summary>
    public IEnumerable<T> Holding(string path)
    {
        var trimmed = path.TrimEnd('/');
        var found = new List<T>(_root);
        if (trimmed.Length == 0)
        {
            return found;
        }

        for (var i = trimmed.IndexOf('/', 1); i > 0; i = trimmed.IndexOf('/', i + 1))
        {
            if (_at.TryGetValue(trimmed[..i], out var above))
            {
                found.AddRange(above);
            }
        }

        if (_at.TryGetValue(trimmed, out var same))
        {
            found.AddRange(same);
        }

        return found;
    }

    /// <summary>The values whose path equals, holds or lies below <paramref name="path"/>: <c>Overlaps(path, filed)</c>.</summary>
    public IEnumerable<T> Overlapping(string path)
    {
        var trimmed = path.TrimEnd('/');
        if (trimmed.Length == 0)
        {
            return _all;
        }

        var found = (List<T>)Holding(trimmed);
        if (_below.TryGetValue(trimmed, out var below))
        {
            found.AddRange(below);
        }

        return found;
    }

    private static void Append(Dictionary<string, List<T>> map, string key, T value)
    {
        if (!map.TryGetValue(key, out var list))
        {
            map[key] = list = [];
        }

        list.Add(value);
    }
}
