#!/usr/bin/env bash
# Install pirack and what it needs on a fresh Debian 12 machine (as root).
#   bash tools/install.sh          the rack designer (CadQuery stack), `rack serve` (the web extra and
#                                  its JavaScript from the npm registry) and bringup
#   bash tools/install.sh --test   also the daemons and tools the test suite runs for real, and
#                                  Debian's chromium for the browser tests
# Idempotent. Package installs never start services on this machine (policy-rc.d exits 101).
set -euo pipefail
cd "$(dirname "$0")/.."
want_test=0
[ "${1:-}" = "--test" ] && want_test=1

# libgl1 & co: OCP (CadQuery's OpenCascade) links against them; poppler-utils renders PDFs to PNG;
# the PDFs embed Liberation Sans (Latin, ≥ Ø ±; Helvetica's metrics), DejaVu Sans (rarer symbols)
# and IPAGothic (Japanese).
pkgs=(libgl1 libglu1-mesa libxrender1 poppler-utils fonts-ipafont-gothic fonts-liberation fonts-dejavu-core)
# npm fetches the viewer's JavaScript for `rack serve` (skipped where a Node.js with npm exists).
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
if [ "$want_test" = 1 ]; then
  # The real daemons and checkers bringup renders for, and the lab's clients.
  # NEVER network-manager (its install rewrites /etc/resolv.conf) and no dhclient.
  pkgs+=(dnsmasq nftables chrony snmpd snmp nfs-ganesha nfs-ganesha-vfs libnfs-utils busybox
         iproute2 tftp-hpa tcpdump openssh-server nfs-kernel-server)
  # The VM lab (bringup lab --vm, tests/vm): QEMU (TCG works without KVM), qemu-img for the
  # overlays, mmdebstrap for the Debian image; e2fsprogs' mkfs.ext4 -d makes its disk.
  pkgs+=(qemu-system-x86 qemu-utils mmdebstrap e2fsprogs openssh-client)
  # tests/web drive Debian's chromium with Playwright's Python package (never `playwright
  # install`, which downloads a browser of its own).
  pkgs+=(chromium)
fi

extras="rack,web"
# fleet: ansible-core, so the suite drives the lab through `bringup fleet run --lab`.
[ "$want_test" = 1 ] && extras="rack,web,test,fleet"
pip_install=(python3 -m pip install -q --disable-pip-version-check -e ".[${extras}]")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  # pip's downloads and apt's at the same time: neither needs the other (OCP's wheel links
  # against libgl1 & co when it is imported, not when it is installed).
  pip_log=$(mktemp /tmp/pirack-pip.XXXXXX.log)
  # its own process group (setsid), so a failed apt-get ends pip and what pip started
  setsid "${pip_install[@]}" >"$pip_log" 2>&1 &
  pip_pid=$!
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  # a failed apt-get (set -e) ends pip too, and takes our policy-rc.d away
  trap 'kill -- "-$pip_pid" 2>/dev/null; rm -f "$pip_log"; [ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"; chmod +x "$policy"; created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$created_policy" = 1 ] && rm -f "$policy"
  created_policy=0
  pip_rc=0
  wait "$pip_pid" || pip_rc=$?
  trap - EXIT
  cat "$pip_log"; rm -f "$pip_log"
  [ "$pip_rc" = 0 ] || { echo "install.sh: pip install -e .[${extras}] failed (exit $pip_rc)" >&2; exit 1; }
else
  "${pip_install[@]}"
fi
command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
# An editable install compiles nothing, and with PYTHONDONTWRITEBYTECODE set (as on these
# machines) every run would compile our modules from source again: compile them once here.
python3 -m compileall -q pirack bringup rackdesign >/dev/null || true

# The browser libraries `rack serve` loads (three.js, svg-pan-zoom): from the npm registry at the
# versions pinned in rackdesign/web/package-lock.json, into a folder outside git that the app
# serves (rackdesign/web/assets.py reads the same variables). Nothing is fetched at run time.
web_assets="${PIRACK_WEB_ASSETS:-${XDG_DATA_HOME:-$HOME/.local/share}/pirack/web}"
if ! cmp -s rackdesign/web/package-lock.json "$web_assets/package-lock.json" \
   || ! cmp -s rackdesign/web/package.json "$web_assets/package.json" \
   || [ ! -f "$web_assets/node_modules/three/package.json" ]; then
  mkdir -p "$web_assets"
  cp rackdesign/web/package.json rackdesign/web/package-lock.json "$web_assets/"
  (cd "$web_assets" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null)
fi
