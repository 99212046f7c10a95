#!/bin/bash
# OpenVPN --up script: save the default route before OpenVPN changes any route.
#
# OpenVPN runs --up after opening the tun device and before it adds routes (unless
# --route-delay is set), so the global default is still the real one here. The arguments
# (tun_dev tun_mtu 0 ifconfig_local ifconfig_remote init|restart; the third, once link_mtu,
# is a literal 0 in OpenVPN init.c run_up_down) are not needed.
#
# A failed save must not stop the VPN from connecting (a non-zero --up status is fatal to
# OpenVPN): the restore side can still use scutil's current router, so only warn.
set -u

DEFROUTE=${DEFROUTE:-/usr/local/bin/defroute}

if [[ ! -x $DEFROUTE ]]; then
  echo "defroute-up: $DEFROUTE is not an executable; set DEFROUTE (OpenVPN: setenv DEFROUTE /path/to/defroute)" >&2
  exit 0
fi

"$DEFROUTE" save
status=$?
if ((status != 0)); then
  echo "defroute-up: '$DEFROUTE save' exited with $status; connecting anyway" >&2
fi
exit 0
