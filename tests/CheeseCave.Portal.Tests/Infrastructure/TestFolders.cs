namespace CheeseCave.Portal.Tests.Infrastructure;

/// <summary>Removing a stopped portal's temporary data folder.</summary>
internal static class TestFolders
{
    /// <summary>
    /// A background task of the stopped host (a long operation finishing, SQLite closing its WAL) can still add a file
    /// while the folder is being deleted ("Directory not empty"): try again until it is gone. A temporary folder left
    /// behind is not a test failure, so the last attempt's error is not thrown.
    /// </summary>
    public static async Task DeleteAsync(string folder)
    {
        for (var attempt = 1; Directory.Exists(folder) && attempt <= 20; attempt++)
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
            catch (IOException) when (attempt < 20)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100));
            }
            catch (IOException)
            {
            }
        }
    }
}
