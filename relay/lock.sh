#!/bin/sh
# Writes relay/package-lock.json, the lockfile the container image installs from: relay/package.json
# resolved on its own, outside the root workspace (whose lockfile covers the development install).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp "$here/package.json" "$tmp/package.json"
(cd "$tmp" && npm install --package-lock-only --ignore-scripts --no-audit --no-fund --workspaces=false >/dev/null)
cp "$tmp/package-lock.json" "$here/package-lock.json"
echo "wrote $here/package-lock.json"
