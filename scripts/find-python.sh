#!/usr/bin/env bash
# Prints the path of a Python interpreter of the version asked (e.g. 3.10), or fails.
# pyenv's shim answers "command not found" when that version is not the global one, so the
# pyenv install folders are looked at directly.
set -euo pipefail
want="$1"
if command -v "python$want" >/dev/null 2>&1 && "python$want" -c 'import sys' >/dev/null 2>&1; then
  "python$want" -c 'import sys; print(sys.executable)'; exit 0
fi
root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in $(ls -d "$root"/versions/"$want".* 2>/dev/null | sort -V -r); do
  if [ -x "$dir/bin/python$want" ]; then echo "$dir/bin/python$want"; exit 0; fi
done
echo "Python $want not found (install it with pyenv or your package manager)" >&2
exit 1
