#!/usr/bin/env bash
# Prepare one on-prem node (Ray's `local` provider, study/clusters/onprem.yaml): a venv with
# Python >= 3.11 at ~/study-venv holding this repository and its cluster extras, put first on
# PATH together with RAY_AUTH_MODE=token for every later shell, so `ray submit` runs the venv's
# python and every Ray process presents the cluster's token (~/.ray/auth_token).
set -euo pipefail
VENV="${STUDY_VENV:-$HOME/study-venv}"
REPO="${STUDY_REPO:-$HOME/loss-scale-study}"
if [ ! -x "$VENV/bin/python" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      "$candidate" -m venv "$VENV"
      break
    fi
  done
  [ -x "$VENV/bin/python" ] || { echo "setup_node.sh: this node needs Python >= 3.11 (python3.11 on PATH)" >&2; exit 1; }
fi
"$VENV/bin/python" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)' ||
  { echo "setup_node.sh: $VENV is not a venv (pip would install into the system's Python); remove it" >&2; exit 1; }
# pip only when the requirements changed: a re-run of `ray up` (code changes are live in the
# editable install) skips it; the stamp names the repository and the hash of its pyproject.toml
STAMP="$VENV/.loss-scale-study-installed"
WANT="$REPO $(sha256sum "$REPO/pyproject.toml" | cut -d' ' -f1)"
if [ "$(cat "$STAMP" 2>/dev/null)" = "$WANT" ] && "$VENV/bin/python" -c 'import study' 2>/dev/null; then
  echo "setup_node.sh: $VENV already holds $REPO (pyproject.toml unchanged); no pip"
else
  "$VENV/bin/python" -m pip install -q -e "$REPO[cluster]"
  echo "$WANT" > "$STAMP"
fi
LINE="export PATH=\"$VENV/bin:\$PATH\" RAY_AUTH_MODE=token  # loss-scale-study"
if ! grep -qF "# loss-scale-study" "$HOME/.bashrc" 2>/dev/null; then
  # first, before the usual "not interactive: return" guard of ~/.bashrc
  { echo "$LINE"; cat "$HOME/.bashrc" 2>/dev/null || true; } > "$HOME/.bashrc.study" && mv "$HOME/.bashrc.study" "$HOME/.bashrc"
fi
