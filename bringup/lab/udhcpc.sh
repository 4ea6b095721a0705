#!/bin/sh
# busybox udhcpc hook for the pirack lab: record what the DHCP server offered into the file
# named by $PIRACK_DHCP_OUT and configure the lab interface. Never touches /etc/resolv.conf.
# With PIRACK_DHCP_PROBE=1 (a probe from the uplink) it only records: no address is changed.
out="${PIRACK_DHCP_OUT:?}"
case "$1" in
  deconfig)
    [ "$PIRACK_DHCP_PROBE" = 1 ] || ip -4 addr flush dev "$interface"
    ;;
  bound|renew)
    if [ "$PIRACK_DHCP_PROBE" != 1 ]; then
      ip -4 addr flush dev "$interface"
      ip addr add "$ip/${mask:-24}" dev "$interface"
      for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    fi
    {
      echo "event=$1"; echo "ip=$ip"; echo "mask=$mask"; echo "router=$router"; echo "dns=$dns"
      echo "ntpsrv=$ntpsrv"; echo "domain=$domain"; echo "search=$search"; echo "serverid=$serverid"
      echo "lease=$lease"
    } > "$out.tmp" && mv "$out.tmp" "$out"
    ;;
esac
exit 0
