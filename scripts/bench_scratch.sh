# Sourced by the measuring scripts (calls_memory.sh, list_and_editor.sh): the binary to measure
# ($1, or target/release/agentver built first), and a scratch repository with a hermetic identity
# and home, removed (with anything started in the background) when the script exits.
# Sets: here (the repository), av (the binary), scratch (the folder); leaves the shell in
# $scratch/repo.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# -eq 0 ]]; then
  cargo build --release --quiet --manifest-path "$here/Cargo.toml"
fi
av=$(realpath "${1:-$here/target/release/agentver}")
scratch=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$scratch"' EXIT
export GIT_CONFIG_NOSYSTEM=1 HOME="$scratch/home" NO_COLOR=1
export GIT_AUTHOR_NAME=Bench GIT_AUTHOR_EMAIL=bench@example.com
export GIT_COMMITTER_NAME=Bench GIT_COMMITTER_EMAIL=bench@example.com
mkdir -p "$HOME" "$scratch/repo"
cd "$scratch/repo"

# The repository of benches/common/load.rs's example_repo, in the current folder: sales v1..v3,
# a pin and a split, committed.
example_repo() {
  git init -q -b main
  cp -R "$here/agents.example/." .
  "$av" publish --all -m one >/dev/null
  for t in 0.4 0.5; do
    sed -i "0,/temperature: [0-9.]*/s//temperature: $t/" agents/sales.yaml
    "$av" publish sales -m warmer >/dev/null
  done
  "$av" pin +14155550100 sales@v1 >/dev/null
  "$av" ab +14155550199 a=sales@v1:34 b=sales@v2:33 c=sales@v3:33 >/dev/null
  git add -A && git commit -q -m pins
}
