#!/bin/bash
# OpenVPN --down script: put the default route back after OpenVPN has removed its routes.
#
# OpenVPN runs --down after it deleted its routes and closed the tun device. When OpenVPN
# restored the default itself, `defroute restore` finds it present and does nothing; when the
# default is missing (redirect-gateway without def1 and a failed undo, another tool, a network
# change), it adds it from scutil's current router or the saved route.
#
# This script always exits 0. OpenVPN treats a failing --down as fatal (OpenVPN init.c
# run_up_down: openvpn_run_script(..., S_FATAL, "--up/--down")), and without persist-tun it
# runs --down on every restart (init.c do_close_tun), so a failing restore (exit 3 after
# `user nobody`, 4 with Wi-Fi down, 127 with no binary) would turn a reconnect into an exit.
# A failure is written to stderr, which is OpenVPN's log.
#
# $signal says why OpenVPN closes the tunnel (init.c run_up_down; sig.c signal_description):
# "sigterm" or "sigint" when it is being stopped; anything else ("sigusr1", "ping-restart",
# "sighup", ...) may be a restart, and OpenVPN waits for this script in its event loop. Then
# restore makes one attempt (--no-retry) instead of retrying for up to 15.5 s.
#
# Needs root: with `user nobody` OpenVPN runs --down unprivileged and no route can be restored
# (Tunnelblick#421); use the down-root plugin then (see README.md). The plugin runs this
# script with the environment of the first --up, where $signal is not set.
# Written for bash 3.2 (macOS's /bin/bash).
set -u

DEFROUTE=${DEFROUTE:-/usr/local/bin/defroute}

say() {
  printf 'defroute-down: %s\n' "$*" >&2
}

if [[ ! -x $DEFROUTE ]]; then
  say "$DEFROUTE is not an executable; the default route was not checked (set DEFROUTE)"
  exit 0
fi

case ${signal:-} in
  "" | sigterm | sigint)
    "$DEFROUTE" restore
    ;;
  *)
    "$DEFROUTE" restore --no-retry
    ;;
esac
status=$?
if ((status != 0)); then
  say "'$DEFROUTE restore' exited with $status (signal '${signal:-}'); OpenVPN carries on"
fi
exit 0
