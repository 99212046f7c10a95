#!/bin/bash
# OpenVPN --down script: put the default route back after OpenVPN has removed its routes.
#
# OpenVPN runs --down after it deleted its routes and closed the tun device. When OpenVPN
# restored the default itself, `defroute restore` finds it present and does nothing; when the
# default is missing (redirect-gateway without def1 and a failed undo, another tool, a network
# change), it adds it from scutil's current router or the saved route.
#
# Needs root: with `user nobody` OpenVPN runs --down unprivileged and no route can be restored
# (Tunnelblick#421); use the down-root plugin then (see README.md).
set -u

DEFROUTE=${DEFROUTE:-/usr/local/bin/defroute}

if [[ ! -x $DEFROUTE ]]; then
  echo "defroute-down: $DEFROUTE is not an executable; set DEFROUTE (OpenVPN: setenv DEFROUTE /path/to/defroute)" >&2
  exit 1
fi

"$DEFROUTE" restore
exit $?
