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
npm test -- ${E2E_ONLY:-}
