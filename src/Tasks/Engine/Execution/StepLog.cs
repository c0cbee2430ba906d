using System.Globalization;
using System.Text;

namespace MLPipelines.Engine.Execution;

/// <summary>
/// What one execution of a step printed, kept with its entry so a hit can replay it (Turborepo keeps each task's log
/// in its cache the same way). Standard output and error are interleaved in the order their lines arrived, as the live
/// log shows them. Bounded: only the last <see cref="MaxBytes"/> of UTF-8 text are kept, and a kept log that lost its
/// beginning starts with a line saying how much went. Separately, the last lines of standard error are kept for the
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

    public StepLog(int maxBytes = MaxBytes)
    {
        _maxBytes = maxBytes;
    }

    /// <summary>Adds one line as the step printed it (without its line ending); <paramref name="isError"/>: from standard error.</summary>
    public void Add(string line, bool isError)
    {
        var bytes = Encoding.UTF8.GetByteCount(line) + 1;
        if (bytes > _maxBytes)
        {
            // One line longer than the whole log: its end, as for the log itself. A quarter of the bound in characters
            // is at most the bound in UTF-8 bytes.
            line = line[^(_maxBytes / 4)..];
            bytes = Encoding.UTF8.GetByteCount(line) + 1;
        }

        lock (_lock)
        {
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

    /// <summary>True when lines were dropped from the beginning to keep the log within its bound.</summary>
    public bool Truncated
    {
        get
        {
            lock (_lock)
            {
                return _droppedLines > 0;
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
    /// bytes of the beginning were dropped (that line does not count against the bound).
    /// </summary>
    public byte[] ToBytes()
    {
        lock (_lock)
        {
            var text = new StringBuilder((int)Math.Min(_bytes + 200, int.MaxValue));
            if (_droppedLines > 0)
            {
                text.Append(string.Create(CultureInfo.InvariantCulture,
                    $"[log truncated: the first {_droppedLines} lines ({_droppedBytes} bytes) were dropped; the log keeps the last {_maxBytes} bytes]\n"));
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
    public string? ErrorTail()
    {
        lock (_lock)
        {
            if (_errors.Count == 0)
            {
                return null;
            }

            var tail = string.Join(" | ", _errors);
            return tail.Length <= ErrorTailChars ? tail : "…" + tail[^ErrorTailChars..];
        }
    }

    /// <summary>The lines of a kept log (<see cref="ToBytes"/>'s form), for a replay.</summary>
    public static IEnumerable<string> Lines(byte[] kept)
    {
        var text = Encoding.UTF8.GetString(kept);
        var lines = text.Split('\n');
        // The last line ends with '\n', so the split gives an empty string after it.
        return text.EndsWith('\n') ? lines[..^1] : lines;
    }
}
