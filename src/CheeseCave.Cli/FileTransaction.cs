using System.Runtime.InteropServices;

namespace CheeseCave.Cli;

/// <summary>What to do when an output file exists already.</summary>
internal enum IfExists
{
    /// <summary>Stop before writing anything (CA material, CSR outputs without --force).</summary>
    Refuse,

    /// <summary>Overwrite it (certGen's fixed new-device.* names, --force).</summary>
    Replace,

    /// <summary>Move it into the archive folder first (re-issuing a device id is a renewal).</summary>
    Archive,
}

/// <summary>
/// Collects every file a command writes and commits them together: conflicts are checked before anything is
/// written, all content goes to temporary files first, files being replaced by a renewal are moved to the archive
/// folder, and a failure puts back what was archived and removes what this command created. A batch reserves its
/// files up front (<see cref="Reserve"/>, <see cref="CheckConflicts"/>), so a conflict stops it before any key is made.
/// (Writing each device's files while the next were still being prepared was tried and measured slower: on two cores
/// the writes only took CPU time from the preparation.)
/// </summary>
internal sealed class FileTransaction(string root, string? archiveDirectory = null)
{
    /// <summary>From this many files on, one file-system sync replaces a sync per file (thousands per batch).</summary>
    private const int BulkThreshold = 32;

    private readonly List<Entry> _files = [];
    private readonly HashSet<string> _paths = new(StringComparer.Ordinal);
    private List<(string From, string To)>? _toArchive;

    public IReadOnlyList<string> Paths => _files.Select(f => f.Path).ToList();

    /// <summary>Where <see cref="Commit"/> spent its time (write, sync, rename, sync), for the measured CLI runs.</summary>
    public IReadOnlyList<(string Phase, TimeSpan Elapsed)> Timings { get; private set; } = [];

    /// <summary>Files moved into the archive by <see cref="Commit"/>: (from, to).</summary>
    public IReadOnlyList<(string From, string To)> Archived { get; private set; } = [];

    private bool Bulk => _files.Count >= BulkThreshold && OperatingSystem.IsLinux();

    public void Add(string path, string content, bool secret = false, IfExists ifExists = IfExists.Refuse) =>
        Add(path, System.Text.Encoding.ASCII.GetBytes(content), secret, ifExists);

    public void Add(string path, byte[] content, bool secret = false, IfExists ifExists = IfExists.Refuse) =>
        _files[Reserve(path, secret, ifExists)].Content = content;

    /// <summary>Claims an output path whose content comes later through <see cref="Fill(int, byte[])"/>; returns its slot.</summary>
    public int Reserve(string path, bool secret = false, IfExists ifExists = IfExists.Refuse)
    {
        var full = Path.GetFullPath(path);
        if (!_paths.Add(full))
        {
            throw new CliException($"two outputs would share the file {full}; give the devices distinct ids.");
        }

        if (ifExists == IfExists.Archive && archiveDirectory is null)
        {
            throw new InvalidOperationException("Archiving needs an archive folder.");
        }

        _files.Add(new Entry(full, secret, ifExists));
        return _files.Count - 1;
    }

    /// <summary>
    /// Refuses before any work when an output may not be replaced, and works out what a renewal archives. Call it
    /// after the last <see cref="Reserve"/>; <see cref="Commit"/> calls it if nobody did.
    /// </summary>
    public void CheckConflicts()
    {
        // One listing per output folder instead of one lookup per file: a batch of 2,000 devices has 10,000 outputs.
        var existing = ExistingFiles(_files.Select(f => Path.GetDirectoryName(f.Path)!).Distinct());
        var conflicts = _files.Where(f => f.IfExists == IfExists.Refuse && existing.Contains(f.Path)).Select(f => f.Path).ToList();
        if (conflicts.Count > 0)
        {
            throw new CliException($"{conflicts[0]} already exists" + (conflicts.Count > 1 ? $" (and {conflicts.Count - 1} more output files)" : string.Empty)
                + "; nothing was written. Use --force to replace device files, or choose other ids.");
        }

        var toArchive = _files.Where(f => f.IfExists == IfExists.Archive && existing.Contains(f.Path))
            .Select(f => (From: f.Path, To: Path.Combine(archiveDirectory!, Path.GetRelativePath(root, f.Path)))).ToList();
        if (toArchive.FirstOrDefault(a => File.Exists(a.To)) is { To: not null } collision)
        {
            throw new CliException($"the archive file {Path.GetRelativePath(root, collision.To)} already exists (an earlier renewal in the same second); nothing was written. Run the command again in a second.");
        }

        foreach (var directory in _files.Select(f => (Dir: Path.GetDirectoryName(f.Path)!, f.Secret)).DistinctBy(d => d.Dir))
        {
            CreateDirectory(directory.Dir, directory.Secret);
        }

        _toArchive = toArchive;
    }

    /// <summary>Gives a reserved file its content (thread-safe across slots); it is written by <see cref="Commit"/>.</summary>
    public void Fill(int slot, byte[] content) => _files[slot].Content = content;

    public void Fill(int slot, string content) => Fill(slot, System.Text.Encoding.ASCII.GetBytes(content));

    public void Commit()
    {
        if (_toArchive is null)
        {
            CheckConflicts();
        }

        var bulk = Bulk;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var timings = new List<(string, TimeSpan)>();
        var created = new System.Collections.Concurrent.ConcurrentBag<string>();
        var archived = new List<(string From, string To)>();
        try
        {
            // Writing is spread over the cores: a batch of 2,000 devices is 10,000 files.
            Parallel.ForEach(_files.Where(f => f.Temp is null), new ParallelOptions { MaxDegreeOfParallelism = bulk ? Environment.ProcessorCount * 2 : 1 }, entry =>
            {
                entry.Temp = WriteTemporary(entry.Path, entry.Content ?? throw new InvalidOperationException($"Nothing was written for {entry.Path}."), entry.Secret, flushToDisk: !bulk);
            });

            timings.Add(("write", clock.Elapsed));
            if (bulk)
            {
                SyncFileSystem(_files[0].Temp!); // the contents are on disk before any name points at them
                timings.Add(("sync", clock.Elapsed));
            }

            foreach (var (from, to) in _toArchive!)
            {
                CreateDirectory(Path.GetDirectoryName(to)!, secret: true);
                File.Move(from, to);
                archived.Add((from, to));
            }

            // One renaming thread per folder: names in one folder take its lock in turn anyway.
            Parallel.ForEach(_files.GroupBy(f => Path.GetDirectoryName(f.Path)), new ParallelOptions { MaxDegreeOfParallelism = bulk ? Environment.ProcessorCount : 1 }, folder =>
            {
                foreach (var entry in folder)
                {
                    var existed = entry.IfExists == IfExists.Replace && File.Exists(entry.Path);
                    File.Move(entry.Temp!, entry.Path, overwrite: entry.IfExists == IfExists.Replace);
                    entry.Temp = null;
                    if (!existed) created.Add(entry.Path);
                }
            });

            timings.Add(("rename", clock.Elapsed));
            if (bulk)
            {
                SyncFileSystem(_files[0].Path); // and the renames too
                timings.Add(("sync", clock.Elapsed));
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException
            || (ex is AggregateException all && all.InnerExceptions.All(e => e is IOException or UnauthorizedAccessException)))
        {
            foreach (var path in created)
            {
                TryDelete(path);
            }

            foreach (var (from, to) in archived)
            {
                TryMove(to, from);
            }

            var cause = ex is AggregateException aggregate ? aggregate.InnerExceptions[0] : ex;
            throw new CliException($"could not write the output files ({cause.Message}); nothing was kept.");
        }
        finally
        {
            Abandon();
        }

        Archived = archived;
        Timings = timings;
    }

    /// <summary>Removes every temporary file not renamed into place.</summary>
    private void Abandon()
    {
        foreach (var entry in _files)
        {
            if (entry.Temp is { } temp)
            {
                TryDelete(temp);
                entry.Temp = null;
            }
        }
    }

    /// <summary>The files (not folders) in the given folders, by full path.</summary>
    private static HashSet<string> ExistingFiles(IEnumerable<string> directories)
    {
        var files = new HashSet<string>(OperatingSystem.IsLinux() ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase);
        foreach (var directory in directories.Where(Directory.Exists))
        {
            files.UnionWith(Directory.EnumerateFiles(directory));
        }

        return files;
    }

    internal static void CreateDirectory(string directory, bool secret)
    {
        if (Directory.Exists(directory)) return;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute : (UnixFileMode)0b111_101_101);
    }

    internal static string WriteTemporary(string path, byte[] content, bool secret, bool flushToDisk)
    {
        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");

        // Keys, PFX files and the passphrase are owner-only from the first byte; certificates are public. Unbuffered:
        // each file is one write, and a batch writes 10,000 of them.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }

        using var stream = new FileStream(temp, options);
        stream.Write(content);
        if (flushToDisk)
        {
            stream.Flush(flushToDisk: true);
        }

        return temp;
    }

    /// <summary>
    /// One syncfs(2) for the whole file system (Linux; measured: 0.1 s, against 2.5 s for 10,000 fsyncs); should
    /// it fail, every file is flushed on its own.
    /// </summary>
    private void SyncFileSystem(string anyFile)
    {
        using (var handle = File.OpenHandle(anyFile, FileMode.Open, FileAccess.Read))
        {
            if (NativeMethods.syncfs(handle.DangerousGetHandle().ToInt32()) == 0) return;
        }

        foreach (var path in _files.Select(f => f.Temp ?? f.Path))
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
            stream.Flush(flushToDisk: true);
        }
    }

    internal static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private static void TryMove(string from, string to)
    {
        try
        {
            File.Move(from, to, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private sealed class Entry(string path, bool secret, IfExists ifExists)
    {
        public string Path { get; } = path;

        public bool Secret { get; } = secret;

        public IfExists IfExists { get; } = ifExists;

        public byte[]? Content { get; set; }

        /// <summary>The temporary file holding the content until the rename; null before writing and after.</summary>
        public string? Temp { get; set; }
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int syncfs(int fd);
    }
}
