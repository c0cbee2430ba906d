using System.IO.Hashing;
using System.Text;

namespace MLPipelines.Engine.Keys;

/// <summary>Folds components into one key: canonical order, then XxHash128 over kind, name and hash of each.</summary>
public static class KeyFolder
{
    public static StepKey Fold(IEnumerable<KeyComponent> components)
    {
        var ordered = components
            .OrderBy(c => c.Kind, StringComparer.Ordinal)
            .ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
        var hasher = new XxHash128();
        foreach (var c in ordered)
        {
            // NUL and newline cannot occur in names or hex hashes, so the encoding is unambiguous.
            hasher.Append(Encoding.UTF8.GetBytes($"{c.Kind}\0{c.Name}\0{c.Hash}\n"));
        }

        return new StepKey(Convert.ToHexStringLower(hasher.GetCurrentHash()), ordered);
    }
}
