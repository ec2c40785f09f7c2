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
  exit
fi

# WebKit's web process has crashed once in many runs (at a screenshot, 1 of 10 specs passing
# around it) and never here when tried again. A spec that failed only that way runs once more,
# said loudly; any other failure, or a second crash, fails the run. The summary counts both runs.
OUT=$(mktemp)
set +e
npm test 2>&1 | tee "$OUT"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 0 ] && exit 0
# Each top-level failure's block: does it say the page crashed, and which spec file is it in?
read -r others crashed < <(awk '
  function flush() { if (inblock) { if (crash) files[loc] = 1; else other++ } inblock = 0; crash = 0; loc = "" }
  /^not ok / { flush(); inblock = 1; next }
  /^(ok |# Subtest|1\.\.)/ { flush(); next }
  inblock && /page crash/ { crash = 1 }
  inblock && /location: / { match($0, /specs\/[^:]+/); loc = substr($0, RSTART, RLENGTH) }
  END { flush(); list = ""; for (f in files) list = list " " f; print other + 0, list }
' "$OUT") || true
if [ "${others:-1}" != 0 ] || [ -z "${crashed:-}" ]; then exit "$rc"; fi
first_pass=$(grep -Eo '^# pass [0-9]+' "$OUT" | grep -Eo '[0-9]+$' | tail -1)
echo "# WebKit's web process crashed in:$crashed (nothing else failed); running it once more"
set +e
# shellcheck disable=SC2086
node --test --test-concurrency=1 $crashed 2>&1 | tee "$OUT.again"
rc=${PIPESTATUS[0]}
set -e
again_pass=$(grep -Eo '^# pass [0-9]+' "$OUT.again" | grep -Eo '[0-9]+$' | tail -1)
again_fail=$(grep -Eo '^# fail [0-9]+' "$OUT.again" | grep -Eo '[0-9]+$' | tail -1)
echo "# after the second run of$crashed:"
echo "# pass $(( ${first_pass:-0} + ${again_pass:-0} ))"
echo "# fail ${again_fail:-1}"
exit "$rc"
