#!/usr/bin/env bash
# Builds agentver and walks through its main job on agents.example/ in a scratch repository:
# publish, edit, diff, restore, rollback, pin and resolve, printing each command as a user types it.
# Usage: bash scripts/demo.sh            (the scratch repository is removed afterwards)
#        KEEP=1 bash scripts/demo.sh     (keep it and print its path)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
av="$here/target/release/agentver"

scratch=$(mktemp -d)
[[ ${KEEP:-} == 1 ]] || trap 'rm -rf "$scratch"' EXIT
cd "$scratch"
# A hermetic identity and clock, so the output reads the same on every machine.
export GIT_CONFIG_NOSYSTEM=1 HOME="$scratch/home" NO_COLOR=1
export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL="ada@example.com"
export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL="ada@example.com"
export GIT_AUTHOR_DATE="2026-11-20T09:00:00+00:00" GIT_COMMITTER_DATE="2026-11-20T09:00:00+00:00"
mkdir -p "$HOME"

# step 'COMMAND': print it as typed, run it, show a non-zero exit.
step() { printf '\n$ %s\n' "$1"; eval "$1" 2>&1 || printf '(exit %d)\n' "$?"; }
agentver() { "$av" "$@"; }

git init -q -b main config && cd config
cp -R "$here/agents.example/." .
git add -A && git commit -qm "Voice agent config"
echo "# a config repository made from agents.example/ in $scratch/config"

step 'agentver status'
step 'agentver test --replay'
step 'agentver publish --all -m Launch --notes "First production prompts."'
step 'agentver log sales'
step 'sed -i '\''s/temperature: 0.3 /temperature: 0.5 /; s/Never quote prices/Do not quote prices/'\'' agents/sales.yaml'
step 'agentver status'
step 'agentver diff sales'
step 'agentver publish sales -m "Warmer, stricter on prices"'
step 'agentver publish sales'
step 'agentver log sales'
step 'agentver pin +14155550100 sales@v2'
step 'agentver resolve +14155550199 --caller +16505550123 | head -n 11'
step 'agentver ab +14155550199 control=sales@v1:80 test=sales@v2:20'
step 'agentver channels'
printf '\n# An unsaved edit, then a restore that would lose it:\n'
step 'sed -i '\''s/max_tokens: 400/max_tokens: 999/'\'' agents/sales.yaml'
step 'agentver restore sales@v1'
step 'agentver restore sales@v1 --dry-run --force'
step 'agentver restore sales@v1 --force'
step 'agentver restore sales@v2'
step 'agentver rollback sales@v1 -m "Back to the launch prompt"'
step 'agentver log sales'
step 'git log --oneline agent/sales/v3'
step 'git fsck --strict --no-progress'
[[ ${KEEP:-} == 1 ]] && echo "# kept: $scratch/config"
exit 0
