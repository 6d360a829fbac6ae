#!/usr/bin/env bash
# Checks the dependency direction through includes: the front doors (http/,
# cli/, durabletask/, and the client's public header they use) reach no hiredis or CAF
# header, and the pure logic (orchestration/, entities/) neither, through
# any chain of the project's own includes. Run by ctest; prints offenders.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for file in http/*.hpp http/*.cpp cli/*.hpp cli/*.cpp client/client.hpp durabletask/*.hpp durabletask/*.cpp orchestration/*.hpp orchestration/*.cpp \
  entities/*.hpp entities/*.cpp; do
  found=$(g++ -std=c++20 -E -H -I. -Ibuild/generated "$file" 2>&1 >/dev/null | grep -E '^\.+ .*(hiredis|/caf/)' | head -3 || true)
  if [ -n "$found" ]; then
    echo "$file reaches a header it must not:"
    echo "$found"
    status=1
  fi
done
[ "$status" = 0 ] && echo "check_includes: no hiredis or CAF header in the front doors or the pure logic"
exit "$status"
