namespace MLPipelines.Tasks.Tests.TestKit;

/// <summary>A fresh directory under the system temp folder for one test, deleted (with one retry) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = Directory.CreateTempSubdirectory("mlp-tests-").FullName;
    }

    public string Path { get; }

    /// <summary>The absolute path of a '/'-separated path relative to this directory.</summary>
    public string Combine(string relative) => System.IO.Path.GetFullPath(System.IO.Path.Combine(Path, relative));

    /// <summary>Writes a text file (creating its directories) and returns its absolute path.</summary>
    public string Write(string relative, string content)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllText(full, content);
        return full;
    }

    /// <summary>Writes a binary file (creating its directories) and returns its absolute path.</summary>
    public string Write(string relative, byte[] content)
    {
        var full = Combine(relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, content);
        return full;
    }

    public string Read(string relative) => File.ReadAllText(Combine(relative));

    public bool Exists(string relative) => File.Exists(Combine(relative));

    /// <summary>A new subdirectory, created, with its absolute path.</summary>
    public string Subdirectory(string relative) => Directory.CreateDirectory(Combine(relative)).FullName;

    public void Dispose()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                if (Directory.Exists(Path))
                {
                    Directory.Delete(Path, recursive: true);
                }

                return;
            }
            catch (IOException) when (attempt == 0)
            {
            }
            catch (UnauthorizedAccessException) when (attempt == 0)
            {
            }
        }
    }
}
