namespace CheeseCave.Cli;

/// <summary>
/// Collects every file a command writes and commits them together: conflicts are checked before anything is
/// written, all content goes to temporary files first, and a failure removes what this command created.
/// </summary>
internal sealed class FileTransaction
{
    private readonly List<(string Path, byte[] Content, bool Secret, bool MayReplace)> _files = [];

    public IReadOnlyList<string> Paths => _files.Select(f => f.Path).ToList();

    public void Add(string path, string content, bool secret = false, bool mayReplace = false) =>
        Add(path, System.Text.Encoding.ASCII.GetBytes(content), secret, mayReplace);

    public void Add(string path, byte[] content, bool secret = false, bool mayReplace = false)
    {
        var full = Path.GetFullPath(path);
        if (_files.Any(f => string.Equals(f.Path, full, StringComparison.Ordinal)))
        {
            throw new CliException($"two outputs would share the file {full}; give the devices distinct ids.");
        }

        _files.Add((full, content, secret, mayReplace));
    }

    /// <summary>Paths that exist already and may not be replaced.</summary>
    public IReadOnlyList<string> Conflicts() => _files.Where(f => !f.MayReplace && File.Exists(f.Path)).Select(f => f.Path).ToList();

    public void Commit()
    {
        var conflicts = Conflicts();
        if (conflicts.Count > 0)
        {
            throw new CliException($"{conflicts[0]} already exists" + (conflicts.Count > 1 ? $" (and {conflicts.Count - 1} more output files)" : string.Empty)
                + "; nothing was written. Use --force to replace device files, or choose other ids.");
        }

        var temps = new List<string>();
        var created = new List<string>();
        try
        {
            foreach (var (path, content, secret, _) in _files)
            {
                var directory = Path.GetDirectoryName(path)!;
                if (!Directory.Exists(directory))
                {
                    if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
                    else Directory.CreateDirectory(directory, secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : (UnixFileMode)0b111_101_101);
                }

                var temp = Path.Combine(directory, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    // Keys, PFX files and the passphrase are owner-only from the first byte; certificates are public.
                    options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                        : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
                }

                temps.Add(temp);
                using (var stream = new FileStream(temp, options))
                {
                    stream.Write(content);
                    stream.Flush(flushToDisk: true);
                }
            }

            for (var i = 0; i < _files.Count; i++)
            {
                var existed = File.Exists(_files[i].Path);
                File.Move(temps[i], _files[i].Path, overwrite: _files[i].MayReplace);
                if (!existed) created.Add(_files[i].Path);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            foreach (var path in created)
            {
                TryDelete(path);
            }

            throw new CliException($"could not write the output files ({ex.Message}); nothing was kept.");
        }
        finally
        {
            foreach (var temp in temps)
            {
                TryDelete(temp);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
