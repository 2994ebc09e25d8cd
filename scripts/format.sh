#!/usr/bin/env bash
# clang-format over the project's C/C++ sources. --check reports files that
# differ (exit 1); without it, files are rewritten in place.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cc' 2>/dev/null || find src cmd tests bench fuzz -name '*.[ch]')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run -Werror "${files[@]}"
else
  clang-format -i "${files[@]}"
fi
