#!/usr/bin/env bash
# How wg-quick's darwin.bash runs a config's hooks, for tests/hooks/wg_quick_test.ts (darwin.bash
# itself needs macOS: wireguard-go utun, ifconfig, route, networksetup). Everything that decides
# whether a hook can take the tunnel down is reproduced; everything that touches the system is a
# line on stdout instead. Line numbers: wireguard-tools src/wg-quick/darwin.bash at 025f004.
#
#   usage: wg_quick_darwin_hooks.bash up|down CONFIG
#
# - L7: the whole script runs under `set -e -o pipefail`.
# - L61-79 parse_options: PreUp/PostUp/PreDown/PostDown keep the value with its comment part
#   (unstripped_value: everything after the first '=', blanks trimmed), one entry per line.
# - L412-420 execute_hooks: %i becomes the utun (REAL_INTERFACE), %I the config's name, the hook
#   is echoed as "[#] HOOK" on stderr and run as `(eval "$hook")`: a subshell that inherits
#   `set -e`, so a failing hook line fails the call, and `set -e` ends wg-quick there.
# - L452-472 cmd_up: the EXIT trap (`del_if; del_routes`) is set, then add_if (wireguard-go has
#   made the utun), then PreUp: a failing PreUp tears the new tunnel down again.
# - L474-482 cmd_down: PreDown, del_if (removes the socket file; wireguard-go exits on its
#   own, later), then PostDown.
set -e -o pipefail
shopt -s extglob

INTERFACE=""
REAL_INTERFACE=""
PRE_UP=()
POST_UP=()
PRE_DOWN=()
POST_DOWN=()

step() {
  printf '%s\n' "$*"
}

parse_hooks() {
  local line key unstripped
  INTERFACE=$(basename "$1" .conf)
  while read -r line || [[ -n $line ]]; do
    key="${line%%\#*}"
    key="${key%%=*}"
    key="${key##*([[:space:]])}"
    key="${key%%*([[:space:]])}"
    unstripped="${line#*=}"
    unstripped="${unstripped##*([[:space:]])}"
    unstripped="${unstripped%%*([[:space:]])}"
    shopt -s nocasematch # darwin.bash matches the keys case-insensitively (L62)
    case $key in
      PreUp) PRE_UP+=("$unstripped") ;;
      PostUp) POST_UP+=("$unstripped") ;;
      PreDown) PRE_DOWN+=("$unstripped") ;;
      PostDown) POST_DOWN+=("$unstripped") ;;
    esac
    shopt -u nocasematch
  done <"$1"
}

run_hooks() {
  local hook
  for hook in "$@"; do
    hook="${hook//%i/$REAL_INTERFACE}"
    hook="${hook//%I/$INTERFACE}"
    echo "[#] $hook" >&2
    (eval "$hook")
  done
}

add_if() {
  REAL_INTERFACE=utun7
  step "add_if $REAL_INTERFACE"
}

del_if() {
  step "del_if $REAL_INTERFACE"
}

up() {
  trap 'del_if; step del_routes; exit' INT TERM EXIT
  add_if
  run_hooks ${PRE_UP[@]+"${PRE_UP[@]}"}
  step "set_config, addresses, routes, monitor"
  run_hooks ${POST_UP[@]+"${POST_UP[@]}"}
  trap - INT TERM EXIT
  step "up done"
}

down() {
  REAL_INTERFACE=utun7
  run_hooks ${PRE_DOWN[@]+"${PRE_DOWN[@]}"}
  del_if
  run_hooks ${POST_DOWN[@]+"${POST_DOWN[@]}"}
  step "down done"
}

parse_hooks "$2"
case $1 in
  up) up ;;
  down) down ;;
  *)
    echo "usage: $0 up|down CONFIG" >&2
    exit 2
    ;;
esac
