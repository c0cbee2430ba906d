using System.Xml;

namespace MLPipelines.Engine.Configuration;

/// <summary>Where a <c>&lt;Step&gt;</c> element is: a file, and its 1-based line and column (of the <c>&lt;</c>, as MSBuild reports an element).</summary>
public sealed record StepLocation(string File, int Line, int Column);

/// <summary>
/// Finds the <c>&lt;Step&gt;</c> element that declares a step, so an error about the step carries its file, line and
/// column (<c>file(12,5): error MLP1004: …</c>) and an IDE jumps there. MSBuild gives a task no item's source
/// location, only the file that defines it (metadata <c>DefiningProjectFullPath</c>); this reads that file with
/// <see cref="XmlReader"/> (<see cref="IXmlLineInfo"/>) and looks for a <c>Step</c> element whose <c>Include</c>
/// names the step literally (also one name of a list, <c>a;b</c>). An <c>Include</c> built from properties or
/// wildcards has no literal match: then there is no line. Used only when a diagnostic is reported, never on the path
/// of a build without one; each file is read once.
/// </summary>
public sealed class StepLocator
{
    /// <summary>The item a step is declared with.</summary>
    public const string StepElement = "Step";

    /// <summary>The item a tool is declared with: its MLP1022 and MLP2012 errors point at it as a step's point at its <c>Step</c>.</summary>
    public const string ToolElement = "PipelineTool";

    private readonly Dictionary<(string File, string Element), List<(string[] Names, int Line, int Column)>> _files = new();

    /// <summary>The first <c>Step</c> element of <paramref name="file"/> whose <c>Include</c> names <paramref name="step"/> (case-insensitive); null when none does, or the file cannot be read.</summary>
    public StepLocation? Find(string file, string step) => Find(file, StepElement, step);

    /// <summary>
    /// The <paramref name="occurrence"/>-th (0-based) <paramref name="element"/> element of <paramref name="file"/> whose
    /// <c>Include</c> names <paramref name="name"/> (case-insensitive): a name declared twice (MLP1002, MLP1022) is
    /// reported at its second element, the one to remove. Null when there is no such element, or the file cannot be read.
    /// </summary>
    public StepLocation? Find(string file, string element, string name, int occurrence = 0)
    {
        if (!_files.TryGetValue((file, element), out var elements))
        {
            elements = Read(file, element);
            _files[(file, element)] = elements;
        }

        foreach (var (names, line, column) in elements)
        {
            if (names.Contains(name, StringComparer.OrdinalIgnoreCase) && occurrence-- == 0)
            {
                return new StepLocation(file, line, column);
            }
        }

        return null;
    }

    private static List<(string[] Names, int Line, int Column)> Read(string file, string element)
    {
        var elements = new List<(string[], int, int)>();
        try
        {
            // No DTD and no external entities: a project file is read for positions only.
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null, IgnoreComments = true };
            using var reader = XmlReader.Create(file, settings);
            var lineInfo = (IXmlLineInfo)reader;
            while (reader.Read())
            {
                if (reader.NodeType == XmlNodeType.Element && reader.LocalName == element && reader.GetAttribute("Include") is { } include)
                {
                    // LinePosition is the name's column; MSBuild points at the '<' before it.
                    var names = include.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(Unescape).ToArray();
                    elements.Add((names, lineInfo.LineNumber, Math.Max(1, lineInfo.LinePosition - 1)));
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or XmlException or ArgumentException or NotSupportedException)
        {
            // An unreadable or generated file gives no line; the error still names the project file.
        }

        return elements;
    }

    // MSBuild's %XX escapes (%3B, %24…), as the item's name reaches the task unescaped.
    private static string Unescape(string text) => text.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(text) : text;
}
