#!/usr/bin/env bash
# Puts the socket.io browser client in backend/web/static/vendor/ (served by the backend, so the
# chat page needs no CDN at run time). It comes from the npm registry through npm itself:
# `npm pack` downloads the published tarball (integrity checked by npm) and we keep one file.
set -euo pipefail

VERSION="${SOCKETIO_CLIENT_VERSION:-4.8.1}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$ROOT/backend/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

command -v npm >/dev/null || { echo "npm is needed to fetch socket.io-client" >&2; exit 1; }
(cd "$WORK" && npm pack --silent "socket.io-client@$VERSION" >/dev/null)
tar -xzf "$WORK/socket.io-client-$VERSION.tgz" -C "$WORK" package/dist/socket.io.min.js \
  package/LICENSE
mkdir -p "$DEST"
cp "$WORK/package/dist/socket.io.min.js" "$DEST/socket.io.min.js"
cp "$WORK/package/LICENSE" "$DEST/socket.io-client.LICENSE"
echo "$VERSION" > "$DEST/socket.io.version"
echo "socket.io-client $VERSION -> ${DEST#"$ROOT"/}/socket.io.min.js"
