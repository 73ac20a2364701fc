#!/usr/bin/env bash
# Adds one EF Core migration, under the same name, to both databases' migration sets:
#   tools/add-migration.sh <Name>     SQLite     -> src/CheeseCave.Portal/Persistence/Migrations             (PortalDbContext)
#                                     PostgreSQL -> src/CheeseCave.Portal/Persistence/PostgreSql/Migrations  (PostgreSqlPortalDbContext)
#   tools/add-migration.sh --remove   removes the newest migration from both sets (to regenerate one after a merge)
# Adding needs no database: the design-time factories build each provider's model offline (removing starts a
# throwaway PostgreSQL with tests/postgres.sh, because EF asks whether the migration was applied). Migrations are generated code;
# hand-written SQL belongs in a helper both sets can call (see Persistence/PostgreSql/AppendOnlyTriggers.cs).
# tests/CheeseCave.Portal.Tests/Persistence/MigrationsTests checks that both sets match the model and each other.
set -euo pipefail
cd "$(dirname "$0")/../src/CheeseCave.Portal"

ef=$(command -v dotnet-ef || true)
[ -z "$ef" ] && [ -x "$HOME/.dotnet/tools/dotnet-ef" ] && ef="$HOME/.dotnet/tools/dotnet-ef"
[ -z "$ef" ] && { echo "tools/add-migration.sh: dotnet-ef is missing: dotnet tool install --global dotnet-ef --version 10.0.15" >&2; exit 1; }

case "${1:-}" in
  ""|-h|--help) echo "usage: tools/add-migration.sh <Name> | --remove" >&2; exit 2 ;;
esac

dotnet build -nologo -v quiet
newest() { ls "$1" | grep -E '^[0-9]{14}_[A-Za-z0-9]+\.cs$' | sort | tail -1 | sed -E 's/^[0-9]{14}_(.*)\.cs$/\1/'; }
if [ "$1" = "--remove" ]; then
  sqlite=$(newest Persistence/Migrations) postgres=$(newest Persistence/PostgreSql/Migrations)
  if [ "$sqlite" != "$postgres" ] || [ "$postgres" = "InitialSchema" ]; then
    echo "tools/add-migration.sh: the newest migrations differ (SQLite: $sqlite, PostgreSQL: $postgres) or are the baseline; remove by hand" >&2
    exit 1
  fi
  "$ef" migrations remove --context PortalDbContext --no-build
  # EF asks a database whether the migration was applied before removing it: an empty throwaway one says no.
  export CHEESECAVE_POSTGRES_DIR
  CHEESECAVE_POSTGRES_DIR=$(mktemp -u -d "${TMPDIR:-/tmp}/cheesecave-postgres-XXXXXXXX")
  trap '../../tests/postgres.sh stop' EXIT
  eval "$(../../tests/postgres.sh start)"
  CHEESECAVE_DESIGN_TIME_POSTGRES="$CHEESECAVE_TEST_POSTGRES" "$ef" migrations remove --context PostgreSqlPortalDbContext --no-build
  exit 0
fi

[[ "$1" =~ ^[A-Z][A-Za-z0-9]*$ ]] || { echo "tools/add-migration.sh: name the migration in PascalCase (e.g. DataProtectionKeys)" >&2; exit 2; }
"$ef" migrations add "$1" --context PortalDbContext --output-dir Persistence/Migrations --no-build
"$ef" migrations add "$1" --context PostgreSqlPortalDbContext --output-dir Persistence/PostgreSql/Migrations --no-build
echo "Added $1 to both migration sets; build, then run: dotnet test tests/CheeseCave.Portal.Tests --filter FullyQualifiedName~Persistence.MigrationsTests"
