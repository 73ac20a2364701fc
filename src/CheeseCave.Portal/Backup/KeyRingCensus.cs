using Microsoft.Data.Sqlite;

namespace CheeseCave.Portal.Backup;

/// <summary>How many Data Protection keys a backup carries, where they lie and how many have their secret encrypted (for the manifest).</summary>
internal static class KeyRingCensus
{
    public static (int Keys, int Encrypted, string Location) Count(string databaseFile, string keysDirectory)
    {
        var files = Directory.Exists(keysDirectory) ? Directory.GetFiles(keysDirectory, "*.xml").Select(File.ReadAllText).ToList() : [];
        var rows = new List<string>();
        using (var db = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = databaseFile, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString()))
        {
            db.Open();
            using var command = db.CreateCommand();
            command.CommandText = "SELECT Xml FROM DataProtectionKeys WHERE Xml IS NOT NULL";
            try
            {
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    rows.Add(reader.GetString(0));
                }
            }
            catch (SqliteException)
            {
                // A database from before the key-ring table: the ring is in files only.
            }
        }

        var all = files.Concat(rows).ToList();
        var location = rows.Count > 0 ? "database" : "keys/";
        return (all.Count, all.Count(x => x.Contains("encryptedSecret", StringComparison.Ordinal)), location);
    }
}
