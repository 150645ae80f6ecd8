#!/bin/bash
# Install the tools that tests/editors/ runs against editors/: Vim and Emacs (Debian
# packages), vscode-tmgrammar-test (npm, from editors/vscode/package-lock.json) and the
# tree-sitter CLI (crates.io). Each step is skipped when its tool is there, so on a prepared
# machine the script fetches nothing and takes well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

# The npm package of tree-sitter-cli downloads its binary from GitHub, which is not
# reachable here; the crate builds it (about 4 minutes on 2 cores, the first time).
TREE_SITTER_VERSION=0.27.1

# ---- Vim and Emacs 28 (without X).
PACKAGES=(vim emacs-nox)
missing=()
for p in "${PACKAGES[@]}"; do
  # The second letter of dpkg's abbreviated status is "i" only for a fully installed package.
  # shellcheck disable=SC2016 # The format is dpkg-query's, not the shell's.
  status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
  [ "${status:1:1}" = i ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  echo "editor-tools: installing ${missing[*]}" >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -y -o Dpkg::Use-Pty=0 \
    --no-install-recommends install "${missing[@]}"
fi

# ---- vscode-tmgrammar-test and its dependencies, exactly as locked.
if [ ! -x editors/vscode/node_modules/.bin/vscode-tmgrammar-test ]; then
  echo "editor-tools: npm ci in editors/vscode" >&2
  (cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error)
fi

# ---- The tree-sitter CLI, into cargo's bin directory.
if [ "$(tree-sitter --version 2>/dev/null || true)" != "tree-sitter $TREE_SITTER_VERSION" ]; then
  echo "editor-tools: cargo install tree-sitter-cli@$TREE_SITTER_VERSION (takes minutes)" >&2
  cargo install --quiet --locked "tree-sitter-cli@$TREE_SITTER_VERSION"
fi
if ! command -v tree-sitter >/dev/null; then
  echo "editor-tools: tree-sitter is installed in cargo's bin directory, which is not in PATH" >&2
  exit 1
fi
