#!/usr/bin/env bash
# Installs the coding-agent CLIs Maestro's executors drive, pinned to the versions tested with
# Maestro, under $MAESTRO_HOME/agent-clis (default .maestro/agent-clis), where executors look first:
# Codex, Claude Code, OpenCode and Qwen Code from npm, aider from PyPI into a venv there
# (agent-clis/aider-venv, made with Debian's /usr/bin/python3: the sandbox's uid cannot read a
# python under /root). Not package.json dependencies, so `npm ci` stays lean (about 1.7 GB in
# all) and a person who never uses an executor never downloads them. Re-running it installs only
# what is missing or of another version. Under flock: checkouts of one machine may share the folder.
# Measured here: opencode + qwen 16 s from npm (2 cores, warm), aider 3.5 min; codex 424 MB,
# claude 235 MB, opencode 354 MB, qwen 53 MB, aider 686 MB. A registry failure stops it (set -e).
set -euo pipefail
home="${MAESTRO_HOME:-.maestro}"
dest="$home/agent-clis"
AGENT_NPM=(@openai/codex@0.171.0 @anthropic-ai/claude-code@2.1.332 opencode-ai@1.18.33 @qwen-code/qwen-code@0.15.10)
AIDER_PIN=0.86.2
clis_start=$(date +%s)
mkdir -p "$home"
exec {clis_lock}>"$dest.lock"
flock "$clis_lock"
clis="$dest/node_modules/.bin"
stale() { # bin, pinned version: missing, or another version
  ! "$clis/$1" --version 2>/dev/null | grep -qwF "$2"
}
if stale codex 0.171.0 || stale claude 2.1.332 || stale opencode 1.18.33 || stale qwen 0.15.10; then
  npm install --no-audit --no-fund --prefix "$dest" "${AGENT_NPM[@]}"
fi
venv="$dest/aider-venv"
if ! "$venv/bin/aider" --version 2>/dev/null | grep -qxF "aider $AIDER_PIN"; then
  /usr/bin/python3 -c 'import ensurepip, venv' 2>/dev/null || {
    if [ "$(id -u)" != 0 ]; then
      echo "aider needs python3-venv: sudo apt-get install python3-venv, then run this again" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq python3-venv
  }
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "aider-chat==$AIDER_PIN"
fi
flock -u "$clis_lock"
echo "== agent CLIs in $dest ($(( $(date +%s) - clis_start )) s): codex $($clis/codex --version), claude $($clis/claude --version), opencode $($clis/opencode --version), qwen $($clis/qwen --version), $("$venv/bin/aider" --version)"
