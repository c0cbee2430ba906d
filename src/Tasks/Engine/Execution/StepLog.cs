using System.Globalization;
using System.Text;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// What one execution of a step printed, kept with its entry so a hit can replay it (Turborepo keeps each task's log
/// in its cache the same way). Standard output and error are interleaved in the order their lines arrived, as the live
/// log shows them. Bounded: only the last <see cref="MaxBytes"/> of UTF-8 text are kept, and a kept log that lost
/// anything (its first lines, or the beginning of one line longer than the whole log) starts with a line saying how much went. Separately, the last lines of standard error are kept for the
/// MLP2001 error of a failed step, so <c>-v:q</c> and CI annotations show why it failed.
/// Safe to call from the two threads that read a process's output.
/// </summary>
public sealed class StepLog
{
    /// <summary>The most a kept log holds: 1 MiB of UTF-8, the newest lines (a training log's end says how it went).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>How many of the last standard error lines <see cref="ErrorTail"/> gives.</summary>
    public const int ErrorTailLines = 20;

    /// <summary>The most characters <see cref="ErrorTail"/> gives (about 4 KB): an error message, not a log.</summary>
    public const int ErrorTailChars = 4096;

    private readonly Lock _lock = new();
    private readonly Queue<(string Line, int Bytes)> _lines = new();
    private readonly Queue<string> _errors = new();
    private readonly int _maxBytes;
    private long _bytes;
    private long _droppedLines;
    private long _droppedBytes;
    private long _cutLines;
    private long _cutBytes;

    public StepLog(int maxBytes = MaxBytes)
    {
        _maxBytes = maxBytes;
    }

    /// <summary>Adds one line as the step printed it (without its line ending); <paramref name="isError"/>: from standard error.</summary>
    public void Add(string line, bool isError)
    {
        var bytes = Encoding.UTF8.GetByteCount(line) + 1;
        var cutBytes = 0L;
        if (bytes > _maxBytes)
        {
            // One line longer than the whole log (a progress bar redrawn with \r, a dumped array): its end, as for
            // the log itself, and counted so the kept log says it lost that line's beginning.
            var kept = LastChars(line, _maxBytes - 1);
            cutBytes = bytes - 1 - Encoding.UTF8.GetByteCount(kept);
            line = kept;
            bytes = Encoding.UTF8.GetByteCount(line) + 1;
        }

        lock (_lock)
        {
            if (cutBytes > 0)
            {
                _cutLines++;
                _cutBytes += cutBytes;
            }

            _lines.Enqueue((line, bytes));
            _bytes += bytes;
            while (_bytes > _maxBytes)
            {
                var (_, dropped) = _lines.Dequeue();
                _bytes -= dropped;
                _droppedBytes += dropped;
                _droppedLines++;
            }

            if (isError)
            {
                _errors.Enqueue(line);
                if (_errors.Count > ErrorTailLines)
                {
                    _errors.Dequeue();
                }
            }
        }
    }

    /// <summary>
    /// The longest end of <paramref name="line"/> that is at most <paramref name="maxBytes"/> in UTF-8, never starting
    /// inside a surrogate pair (half a character would be written as U+FFFD).
    /// </summary>
    private static string LastChars(string line, int maxBytes)
    {
        var start = line.Length;
        var total = 0;
        while (start > 0)
        {
            var width = char.IsLowSurrogate(line[start - 1]) && start > 1 && char.IsHighSurrogate(line[start - 2]) ? 2 : 1;
            var size = Encoding.UTF8.GetByteCount(line.AsSpan(start - width, width));
            if (total + size > maxBytes)
            {
                break;
            }

            total += size;
            start -= width;
        }

        return line[start..];
    }

    /// <summary>
    /// True when lines were dropped from the beginning, or a line longer than the whole log lost its beginning, to
    /// keep the log within its bound.
    /// </summary>
    public bool Truncated
    {
        get
        {
            lock (_lock)
            {
                return _droppedLines > 0 || _cutLines > 0;
            }
        }
    }

    /// <summary>True when the step printed nothing: such an entry keeps no log.</summary>
    public bool IsEmpty
    {
        get
        {
            lock (_lock)
            {
                return _lines.Count == 0 && _droppedLines == 0;
            }
        }
    }

    /// <summary>
    /// The kept log as UTF-8, one line each ended by <c>\n</c>; when truncated, a first line says how many lines and
    /// bytes of the beginning were dropped, and how many bytes lines too long for the log lost (that line does not
    /// count against the bound).
    /// </summary>
    public byte[] ToBytes()
    {
        lock (_lock)
        {
            var text = new StringBuilder((int)Math.Min(_bytes + 200, int.MaxValue));
            // Any part the log lost is said, in its first line: whole lines from its beginning, and the beginning of
            // a line too long for the log (which the first alone would not show: such a log may have lost no line).
            var lost = new List<string>();
            if (_droppedLines > 0)
            {
                lost.Add(string.Create(CultureInfo.InvariantCulture, $"the first {_droppedLines} lines ({_droppedBytes} bytes) were dropped"));
            }

            if (_cutLines > 0)
            {
                lost.Add(_cutLines == 1
                    ? string.Create(CultureInfo.InvariantCulture, $"a line longer than the log lost its first {_cutBytes} bytes")
                    : string.Create(CultureInfo.InvariantCulture, $"{_cutLines} lines longer than the log lost their first {_cutBytes} bytes in all"));
            }

            if (lost.Count > 0)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"[log truncated: {string.Join(", and ", lost)}; the log keeps the last {_maxBytes} bytes]\n"));
            }

            foreach (var (line, _) in _lines)
            {
                text.Append(line).Append('\n');
            }

            return Encoding.UTF8.GetBytes(text.ToString());
        }
    }

    /// <summary>
    /// The last <see cref="ErrorTailLines"/> lines the step wrote to standard error, joined by <c> | </c> into one line
    /// (MSBuild repeats the file and code on every line of a multi-line error, and CI annotations would split it), cut
    /// to their last <see cref="ErrorTailChars"/> characters; null when it wrote none.
    /// </summary>
    /// <param name="hidden">Values shown as <c>***</c> (<see cref="SecretsOf"/>), replaced before the cut so no part of one is left.</param>
    public string? ErrorTail(IEnumerable<string>? hidden = null)
    {
        lock (_lock)
        {
            if (_errors.Count == 0)
            {
                return null;
            }

            var tail = string.Join(" | ", _errors);
            foreach (var value in (hidden ?? []).Where(v => v.Length >= MinHiddenLength).Distinct().OrderByDescending(v => v.Length))
            {
                tail = tail.Replace(value, "***", StringComparison.Ordinal);
            }

            if (tail.Length <= ErrorTailChars)
            {
                return tail;
            }

            // Cut where a character starts: half a surrogate pair would be shown as U+FFFD.
            var cut = tail[^ErrorTailChars..];
            return "…" + (char.IsLowSurrogate(cut[0]) ? cut[1..] : cut);
        }
    }

    /// <summary>
    /// The sentence a failed command's error ends with (MLP2001, MLP2006, MLP2012): the end of its standard error
    /// (<see cref="ErrorTail"/>), or that it wrote none. Every user command's failure says why the same way, on the
    /// error's one line, so <c>-v:q</c> and CI annotations show it.
    /// </summary>
    public string ErrorTailSentence(IEnumerable<string>? hidden = null) =>
        ErrorTail(hidden) is { } errors ? $" Its standard error ended with: {errors}" : " It wrote nothing to standard error.";

    /// <summary>The shortest value <see cref="ErrorTail"/> hides: hiding <c>1</c> or <c>on</c> would garble every line, and such a value is no secret.</summary>
    public const int MinHiddenLength = 4;

    /// <summary>
    /// The values a step's error must not show: its <c>Environment</c> values and those of its
    /// <c>EnvironmentDependencies</c> (the SDK never logs either: they are often tokens). A command that prints one
    /// to standard error (<c>curl</c> echoing a header) would otherwise put it in the error, and so in every CI annotation.
    /// </summary>
    public static IEnumerable<string> SecretsOf(Configuration.StepDefinition step) =>
        step.Environment.Select(e => e.Value)
            .Concat(step.EnvironmentDependencies.Select(Environment.GetEnvironmentVariable).OfType<string>());

    /// <summary>The lines of a kept log (<see cref="ToBytes"/>'s form), for a replay.</summary>
    public static IEnumerable<string> Lines(byte[] kept)
    {
        var text = Encoding.UTF8.GetString(kept);
        var lines = text.Split('\n');
        // The last line ends with '\n', so the split gives an empty string after it.
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }
}
