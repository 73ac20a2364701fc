#!/usr/bin/env bash
# The house rules that a compiler does not check: no source file over 400 lines (generated EF migrations aside), and
# no class split over several files (a source generator's `partial` and a Razor component's code-behind aside).
# Exit 1 with a list when a rule is broken. Namespace cycles between the portal's feature folders are checked by
# `dotnet test tests/CheeseCave.Portal.Tests --filter FullyQualifiedName~FeatureDependencyTests`.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0

long=$(git ls-files 'src/*' 'tests/*' | grep -E '\.(cs|razor|js|ts|sh|css)$' | grep -v '/Migrations/' \
  | while read -r f; do n=$(wc -l < "$f"); [ "$n" -gt 400 ] && echo "$n $f"; done || true)
if [ -n "$long" ]; then
  echo "Source files over 400 lines:"; echo "$long"; status=1
fi

# A partial type declared in more than one .cs file (a component's Foo.razor.cs beside Foo.razor is one class, one file of C#).
split=$(git ls-files 'src/*.cs' 'tests/*.cs' | grep -v '/Migrations/' \
  | xargs grep -hoE 'partial (class|record|struct) [A-Za-z0-9_]+' | sort | uniq -d || true)
if [ -n "$split" ]; then
  echo "Types declared partial in more than one file:"; echo "$split"; status=1
fi

[ "$status" -eq 0 ] && echo "Structure OK: no file over 400 lines, no class split over files."
exit "$status"
