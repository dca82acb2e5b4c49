#!/usr/bin/env bash
# Fails if any C source or header in the repository is not formatted as
# .clang-format says. Prints the offending files.
set -euo pipefail
cd "$(dirname "$0")/.."

bad=()
while IFS= read -r f; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
if [ ${#bad[@]} -ne 0 ]; then
  echo "not clang-formatted: ${bad[*]}" >&2
  exit 1
fi
echo "format: all files formatted"
