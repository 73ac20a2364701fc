using Microsoft.EntityFrameworkCore.Migrations;

namespace CheeseCave.Portal.Persistence.PostgreSql;

/// <summary>
/// The database's own refusal to rewrite history on PostgreSQL, as the SQLite triggers of the first migration do:
/// no UPDATE or DELETE of an audit entry (nor TRUNCATE, which skips row triggers), no UPDATE of a stored key. Kept
/// out of the generated migration so that regenerating migrations cannot lose it; the initial migration calls it.
/// <see cref="PortalDbContext"/> refuses the same changes before they reach the database.
/// </summary>
public static class AppendOnlyTriggers
{
    public const string AuditMessage = "audit entries are append-only";
    public const string KeyMessage = "stored keys are never overwritten";

    public static void Create(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""
            CREATE FUNCTION cheesecave_refuse_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
            END;
            $$;
            """);
        migrationBuilder.Sql($"""CREATE TRIGGER "AuditEntries_NoUpdate" BEFORE UPDATE ON "AuditEntries" FOR EACH ROW EXECUTE FUNCTION cheesecave_refuse_rewrite('{AuditMessage}');""");
        migrationBuilder.Sql($"""CREATE TRIGGER "AuditEntries_NoDelete" BEFORE DELETE ON "AuditEntries" FOR EACH ROW EXECUTE FUNCTION cheesecave_refuse_rewrite('{AuditMessage}');""");
        migrationBuilder.Sql($"""CREATE TRIGGER "AuditEntries_NoTruncate" BEFORE TRUNCATE ON "AuditEntries" FOR EACH STATEMENT EXECUTE FUNCTION cheesecave_refuse_rewrite('{AuditMessage}');""");
        migrationBuilder.Sql($"""CREATE TRIGGER "ProtectedKeys_NoUpdate" BEFORE UPDATE ON "ProtectedKeys" FOR EACH ROW EXECUTE FUNCTION cheesecave_refuse_rewrite('{KeyMessage}');""");
    }

    public static void Drop(MigrationBuilder migrationBuilder)
    {
        ArgumentNullException.ThrowIfNull(migrationBuilder);
        migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "ProtectedKeys_NoUpdate" ON "ProtectedKeys";""");
        migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "AuditEntries_NoTruncate" ON "AuditEntries";""");
        migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "AuditEntries_NoDelete" ON "AuditEntries";""");
        migrationBuilder.Sql("""DROP TRIGGER IF EXISTS "AuditEntries_NoUpdate" ON "AuditEntries";""");
        migrationBuilder.Sql("DROP FUNCTION IF EXISTS cheesecave_refuse_rewrite();");
    }
}
