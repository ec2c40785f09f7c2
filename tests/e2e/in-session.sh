#!/usr/bin/env bash
# Runs inside `xvfb-run … dbus-run-session`: a private X display and session bus for the tests.
# Unlocks a throwaway gnome-keyring (its files in a temp dir) so the app's keychain calls work,
# then runs the end-to-end specs one at a time (tauri-driver allows one session at a time).
set -euo pipefail
cd "$(dirname "$0")"
KEYRING_HOME=$(mktemp -d)
export XDG_DATA_HOME="$KEYRING_HOME/data"
mkdir -p "$XDG_DATA_HOME"
echo -n "e2e-keyring" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
if [ -n "${E2E_ONLY:-}" ]; then
  # Some specs only (paths under tests/e2e), e.g. E2E_ONLY="specs/chat.test.mjs".
  # shellcheck disable=SC2086
  node --test --test-concurrency=1 $E2E_ONLY
else
  npm test
fi
