"""The uplink namespace stands for the home router: a fake upstream DNS answering a test zone,
an NTP source, and a TCP echo service that tells each client the address it came from (so the
lab sees the SNAT address, exactly as a server on the internet would)."""

from __future__ import annotations

from pathlib import Path

from .topology import UPSTREAM_ANSWER, UPSTREAM_ZONE, Topology


def dns_config(t: Topology, run_dir: Path) -> str:
    listen = "".join(f"listen-address={a}\n" for a in t.upstream_dns)
    return (
        "# The lab's fake upstream DNS (the home router). Reads no host file.\n"
        "no-resolv\nno-hosts\nbind-interfaces\nport=53\n"
        f"{listen}"
        f"address=/{UPSTREAM_ZONE}/{UPSTREAM_ANSWER}\n"
        f"pid-file={run_dir}/uplink-dnsmasq.pid\n"
        "log-facility=-\n"
    )


def ntp_config(t: Topology, run_dir: Path) -> str:
    return (
        "# The lab's NTP source: serves its own clock at stratum 8, never touches it (-x).\n"
        f"bindaddress {t.ntp_source}\n"
        f"allow {t.uplink_net}\n"
        "local stratum 8\n"
        f"pidfile {run_dir}/uplink-chronyd.pid\n"
        f"bindcmdaddress {run_dir}/uplink-chronyd/chronyd.sock\n"
        f"driftfile {run_dir}/uplink-chronyd/drift\n"
    )


def echo_server_args(python: str, bind: str, port: int) -> list[str]:
    return [python, "-m", "bringup.lab.echo", bind, str(port)]
