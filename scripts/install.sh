#!/usr/bin/env bash
# Installs skiff for every user of this machine: the binary in /usr/local/bin, shell
# completions where bash-completion, zsh and fish look for them, and a man page per
# verb in man1. Usage: scripts/install.sh [BINARY] (default: target/release/skiff).
# PREFIX (default /usr/local) and DESTDIR work as in make install.
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${1:-$TOP/target/release/skiff}
PREFIX=${PREFIX:-/usr/local}
DEST=${DESTDIR:-}
[ -x "$BIN" ] || { echo "install: $BIN not found: build it first (cargo build --release)" >&2; exit 1; }

install -D -m 0755 "$BIN" "$DEST$PREFIX/bin/skiff"
installed="$DEST$PREFIX/bin/skiff"

comp() { # SHELL FILE
  local tmp
  tmp=$(mktemp)
  "$installed" completion "$1" >"$tmp"
  install -D -m 0644 "$tmp" "$2"
  rm -f "$tmp"
}
comp bash "$DEST$PREFIX/share/bash-completion/completions/skiff"
comp zsh "$DEST$PREFIX/share/zsh/site-functions/_skiff"
comp fish "$DEST$PREFIX/share/fish/vendor_completions.d/skiff.fish"

man=$(mktemp -d)
trap 'rm -rf "$man"' EXIT
"$installed" generate-manpages "$man" >/dev/null
install -d -m 0755 "$DEST$PREFIX/share/man/man1"
install -m 0644 "$man"/*.1 "$DEST$PREFIX/share/man/man1/"
command -v mandb >/dev/null 2>&1 && [ -z "$DEST" ] && mandb -q >/dev/null 2>&1 || true
echo "installed $("$installed" version --format '{{.Client.Version}}' 2>/dev/null || echo skiff) to $PREFIX (binary, completions, $(ls "$man" | wc -l) man pages)" >&2
