using System.Buffers;
using System.IO.Hashing;

namespace MLPipelines.Engine.Hashing;

/// <summary>
/// XxHash128 of file contents and strings, as 32 lowercase hex digits. Files are streamed through a pooled buffer,
/// so a multi-gigabyte data set costs one sequential read and no memory.
/// </summary>
public static class ContentHash
{
    private const int BufferSize = 1 << 20;

    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        return OfStream(stream, copyTo: null);
    }

    /// <summary>Hashes a stream to its end, copying it to <paramref name="copyTo"/> on the way (one read for both).</summary>
    public static string OfStream(Stream stream, Stream? copyTo)
    {
        var hasher = new XxHash128();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            int read;
            while ((read = stream.Read(buffer, 0, BufferSize)) > 0)
            {
                hasher.Append(buffer.AsSpan(0, read));
                copyTo?.Write(buffer, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }

    /// <summary>
    /// Hashes a stream to its end asynchronously, copying it to <paramref name="copyTo"/> on the way: for network
    /// streams, whose reads must observe <paramref name="cancellationToken"/> (a timeout). Returns null, having stopped
    /// reading, as soon as the stream gives more than <paramref name="maxBytes"/> bytes (an endless answer).
    /// </summary>
    /// <param name="alsoInto">A second hash fed the same bytes in the same pass (SHA-256 of a signed entry's object).</param>
    public static async Task<string?> OfStreamAsync(Stream stream, Stream copyTo, long maxBytes, CancellationToken cancellationToken, System.Security.Cryptography.IncrementalHash? alsoInto = null)
    {
        var hasher = new XxHash128();
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, BufferSize), cancellationToken).ConfigureAwait(false)) > 0)
            {
                total += read;
                if (total > maxBytes)
                {
                    return null;
                }

                hasher.Append(buffer.AsSpan(0, read));
                alsoInto?.AppendData(buffer, 0, read);
                await copyTo.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Convert.ToHexStringLower(hasher.GetCurrentHash());
    }

    public static string OfText(string text) =>
        Convert.ToHexStringLower(XxHash128.Hash(System.Text.Encoding.UTF8.GetBytes(text)));
}
