"""What each kind of value in cluster.toml may look like: one declared grammar per kind.

Every string that reaches a configuration file, a command line or a path is checked here
before anything renders it. A grammar is a character set and a shape matched with
`re.fullmatch`: `re.match(r"...$")` also matches before a trailing newline, which is how
`cluster_interface = "eth0\\n"` once got into an nftables rule. No grammar admits a control
character, and none admits whitespace, since every daemon we write for splits on it.

Standard library only: `rack export` checks a cached manifest's names with it without paying
for pydantic.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from .errors import shown, unsafe_char


@dataclass(frozen=True)
class Grammar:
    """One kind of value: its name, the pattern a whole value must match, what that means in
    words (for the message), an example, and words the daemons read as keywords."""

    kind: str
    pattern: str
    expect: str
    example: str
    reserved: frozenset[str] = frozenset()

    def check(self, value: str) -> str:
        """`value` when it matches; else ValueError saying what is wrong and what is expected."""
        if not isinstance(value, str):
            raise ValueError(self.expected(f"got {shown(value)}"))
        why = reason(value)
        if why is None and value in self.reserved:
            why = f"'{value}' is a word the daemons read as a keyword"
        if why is None and not re.fullmatch(self.pattern, value):
            why = "it does not have that shape"
        if why is not None:
            raise ValueError(self.expected(f"got {shown(value)}: {why}"))
        return value

    def expected(self, got: str) -> str:
        return f"expected {self.kind} ({self.expect}), like \"{self.example}\"; {got}"


_SPACE = re.compile(r"\s")


def reason(value: str) -> str | None:
    """Why a string can never be a config value, whatever its kind: empty, a control character
    (newline, NUL), a bidi or other format mark, whitespace. None when none of these holds."""
    if value == "":
        return "it is empty"
    bad = unsafe_char(value)
    if bad is not None:
        return f"it contains the control character {bad}"
    if _SPACE.search(value):
        return "it contains whitespace"
    return None


_LABEL63 = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"

HOST_NAME = Grammar(
    "a host name", r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?",
    "lower-case letters, digits and '-', starting with a letter, at most 63", "slave1",
    # dnsmasq's dhcp-host reads these (and a bare number like 12h) as a keyword or a lease time
    reserved=frozenset({"ignore", "infinite", "deprecated", "localhost"}),
)
DOMAIN = Grammar(
    "a DNS domain", rf"(?=.{{1,253}}$){_LABEL63}(?:\.{_LABEL63})*",
    "labels of lower-case letters, digits and '-' joined by dots, at most 253", "cluster.lan",
)
INTERFACE = Grammar(
    "an interface name", r"[A-Za-z][A-Za-z0-9_.-]{0,14}",
    "1-15 letters, digits, '.', '-', '_', starting with a letter", "eth0",
)
CLUSTER_NAME = Grammar(
    "a cluster name", r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}",
    "letters, digits, '-' or '_', at most 63: it names folders", "mycluster",
)
EXPORT_NAME = Grammar(
    "an export name", r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}", "letters, digits, '-' or '_', at most 63", "data",
)
CATALOG_ID = Grammar(
    "a catalog id", r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}",
    "the name of a part file under parts/: letters, digits, '.', '-', '_'", "rpi4b-8gb",
)
MAC = Grammar(
    "a MAC address", r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}",
    "six pairs of hex digits joined by ':' or '-'", "dc:a6:32:12:34:56",
)
SERIAL = Grammar(
    "a Pi serial number", r"[0-9a-f]{8}(?:[0-9a-f]{8})?",
    "8 or 16 hex digits, from `grep Serial /proc/cpuinfo`", "10000000abcdef01",
)
UUID = Grammar(
    "a filesystem UUID", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "8-4-4-4-12 hex digits, from `blkid`", "0b1c2d3e-1111-2222-3333-444455556666",
)
LABEL = Grammar(
    "a filesystem label", r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}",
    "1-16 letters, digits, '-', '_', starting with a letter or digit (xfs: at most 12)", "pirack-ssd",
)
LEASE_TIME = Grammar(
    "a DHCP lease time", r"[1-9][0-9]{0,7}[smhdw]?|infinite",
    "a number of seconds, or with m, h, d or w, between 2 minutes and 365 days; or infinite", "12h",
)
PATH_SEGMENT = Grammar(
    "a folder name", r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}",
    "letters, digits, '.', '-', '_', not starting with '.' or '-'", "tftpboot",
)
_LEASE_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
LEASE_MIN_S, LEASE_MAX_S = 120, 365 * 86400  # dnsmasq's shortest lease (man dnsmasq); a year


def lease_time(value: str) -> str:
    """A lease time dnsmasq takes, between its 2-minute minimum and a year (or infinite)."""
    LEASE_TIME.check(value)
    if value != "infinite":
        unit = value[-1] if value[-1].isalpha() else ""
        seconds = int(value[:len(value) - len(unit)]) * _LEASE_SECONDS[unit]
        if not LEASE_MIN_S <= seconds <= LEASE_MAX_S:
            raise ValueError(LEASE_TIME.expected(f"got {shown(value)}: {seconds} s is outside 2 minutes to 365 days"))
    return value


def host_name(value: str) -> str:
    return HOST_NAME.check(value)


def domain(value: str) -> str:
    """A DNS domain, lower-cased and without a final dot; its last label is not all digits (an
    address is not a domain)."""
    norm = value.lower().removesuffix(".") if isinstance(value, str) else value
    DOMAIN.check(norm)
    if norm.rsplit(".", 1)[-1].isdigit():
        raise ValueError(DOMAIN.expected(f"got {shown(value)}: its last label is a number"))
    return norm


# --- addresses -----------------------------------------------------------------------------------
# What an address is when it can be no host's, by the ipaddress module's own properties (the
# registry's ranges, not ours). The limited broadcast 255.255.255.255 is reserved to ipaddress;
# it is named first so the message says what it is.
_BROADCAST = ipaddress.IPv4Network("0.0.0.0/0").broadcast_address
_NOT_A_HOST = (  # (property, what it is, what it is for)
    ("is_unspecified", "the unspecified address", "0.0.0.0 means 'any address' or 'none yet', never one host"),
    ("is_loopback", "a loopback address", "127.0.0.0/8 is a machine talking to itself, never reached over a network"),
    ("is_multicast", "a multicast address", "224.0.0.0/4 names a group of listeners, not one host"),
    ("is_link_local", "a link-local address", "169.254.0.0/16 is what a host gives itself when DHCP fails; "
     "routers never forward it"),
    ("is_reserved", "a reserved address", "240.0.0.0/4 is used on no network"),
)


def not_a_host(a: ipaddress.IPv4Address, link_local: bool = False) -> str | None:
    """Why `a` can be no host's address (in words), or None. `link_local`: a link-local address
    is taken (a server on the same link can have one)."""
    if a == _BROADCAST:
        return "the broadcast address (255.255.255.255: everyone on the link), not one host"
    for prop, what, why in _NOT_A_HOST:
        if getattr(a, prop) and not (link_local and prop == "is_link_local"):
            return f"{what} ({why})"
    return None


_PRIVATE_EXAMPLE = "a private range like 192.168.50.0/24 or 10.0.50.0/24"


def cluster_subnet(net: ipaddress.IPv4Network) -> ipaddress.IPv4Network:
    """The cluster network: a range hosts can have addresses in. It is refused when its first or
    last address is no host's (an aligned special range holds or contains the subnet, so one end
    shows it), or when it takes in the link-local range (the one special range not at an end of
    every wider network holding it)."""
    for end in (net.network_address, net.broadcast_address):
        why = not_a_host(end)
        if why is not None:
            raise ValueError(f"{net} holds {why}: no host on the cluster network can have such an address; "
                             f"use {_PRIVATE_EXAMPLE}")
    link_local = ipaddress.IPv4Network("169.254.0.0/16")  # what is_link_local tests (RFC 3927)
    if net.prefixlen < link_local.prefixlen and link_local.subnet_of(net):
        raise ValueError(f"{net} takes in the link-local range {link_local} (addresses hosts give themselves "
                         f"when DHCP fails): use {_PRIVATE_EXAMPLE}")
    return net


def snat_address(iface: ipaddress.IPv4Interface) -> ipaddress.IPv4Interface:
    """An address the master adds on the uplink (SNAT): one host's address on the home network,
    never a special one nor its prefix's network or broadcast address."""
    why = not_a_host(iface.ip)
    net = iface.network
    if why is None and net.prefixlen < 31 and iface.ip in (net.network_address, net.broadcast_address):
        which = "network" if iface.ip == net.network_address else "broadcast"
        why = f"the {which} address of its own prefix {net}, not a host's"
    if why is not None:
        raise ValueError(f"{iface} is {why}: give a free host address on the home network with its prefix, "
                         "like \"192.168.11.211/24\"")
    return iface


def server_address(a: ipaddress.IPv4Address) -> ipaddress.IPv4Address:
    """The address of a server the master asks (DNS upstream, NTP): one host, somewhere else.
    A loopback address is the master itself, whose dnsmasq and chronyd would ask themselves."""
    why = not_a_host(a, link_local=True)
    if why is not None:
        raise ValueError(f"{a} is {why}: give the address of a server on the home network or beyond, "
                         "like your router's \"192.168.11.1\"")
    return a


def host_or_address(value: str) -> str:
    """An NTP source: an IPv4 address, or a host name in DNS (lower-cased)."""
    if isinstance(value, str) and re.fullmatch(r"[0-9.]+", value):
        try:
            a = ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError(f"expected an IPv4 address or a host name, like \"ntp.nict.jp\"; got {shown(value)}: "
                             "not a valid address") from None
        return str(server_address(a))
    try:
        name = domain(value)
    except ValueError:
        why = reason(value) or "it is neither"
        raise ValueError(f"expected an IPv4 address or a host name (labels of letters, digits and '-' joined by dots), "
                         f"like \"ntp.nict.jp\"; got {shown(value)}: {why}") from None
    if name == "localhost" or name.endswith(".localhost"):  # RFC 6761: always the loopback
        raise ValueError(f"{shown(value)} is the master itself (a loopback name), whose chronyd would ask itself: "
                         "give a server on the home network or beyond, like \"ntp.nict.jp\"")
    return name


def mac(value: str) -> str:
    """A device's MAC, normalised to lower case with ':'. All zeros (no address), the broadcast
    address and a multicast one (the first octet's lowest bit set) are no device's."""
    norm = value.lower().replace("-", ":") if isinstance(value, str) else value
    MAC.check(norm)
    why = None
    if norm == "00:00:00:00:00:00":
        why = "all zeros, which is no device's address (a placeholder or an unread value)"
    elif norm == "ff:ff:ff:ff:ff:ff":
        why = "the broadcast address (every device on the link), not one device's"
    elif int(norm[:2], 16) & 1:
        why = "a multicast address (the first octet's lowest bit is set), not a device's"
    if why is not None:
        raise ValueError(f"{shown(value)} is {why}: expected the Pi's own eth0 MAC, like \"{MAC.example}\" "
                         "(`ip link show eth0` on the Pi)")
    return norm


def lower(grammar: Grammar):
    """A check that lower-cases the value first (hex digits in either case)."""
    return lambda value: grammar.check(value.lower() if isinstance(value, str) else value)


# --- paths ---------------------------------------------------------------------------------------
# (pydantic has checked that these are strings before they get here)

def _segments(value: str, what: str) -> list[str]:
    """The folder names of a path, without empty and '.' parts; '..' is refused."""
    why = reason(value)
    if why is not None:
        raise ValueError(f"expected {what}; got {shown(value)}: {why}")
    parts = [p for p in value.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ValueError(f"expected {what}; got {shown(value)}: '..' would lead out of it")
    for p in parts:
        if not re.fullmatch(PATH_SEGMENT.pattern, p):
            raise ValueError(f"expected {what}; got {shown(value)}: the folder name {shown(p)} is not "
                             f"{PATH_SEGMENT.expect}, at most 128")
    if len(value) > 255:
        raise ValueError(f"expected {what}; got {shown(value)}: longer than 255 characters")
    return parts


def drive_path(value: str) -> str:
    """A folder on the drive, relative to its mount point, normalised ('a//b/' -> 'a/b'). It
    stays on the drive: not absolute, no '..', not the drive's top folder itself."""
    what = "a folder relative to the drive's mount point, like \"tftpboot\" or \"exports/data\""
    if value.startswith("/"):
        raise ValueError(f"expected {what}; got {shown(value)}: an absolute path leaves the drive")
    parts = _segments(value, what)
    if not parts:
        raise ValueError(f"expected {what}; got {shown(value)}: it names no folder (it is the whole drive)")
    return "/".join(parts)


# Folders of the operating system a drive must never be mounted on (it would hide them), and
# the trees nothing may be mounted anywhere inside: /var holds the system's changing state
# (/var/lib/misc: dnsmasq's leases; /var/lib/pirack: bringup's runs; /var/log), /root is root's
# home, /tmp is emptied at boot. /home and a user's home (/home/pi) are refused too; a folder
# inside a home (/home/pi/ssd) is the user's own.
SYSTEM_FOLDERS = frozenset({
    "/", "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/media", "/mnt",
    "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr", "/var", "/lost+found",
})
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root", "/run",
                "/sbin", "/sys", "/tmp", "/usr", "/var")
_INSTEAD = "use a folder of its own, like /mnt/ssd (or /srv/ssd, /media/ssd)"


def mount_point(value: str) -> str:
    """An absolute folder to mount the drive on, normalised ('/mnt//ssd/' -> '/mnt/ssd'); never a
    system folder, nothing inside /var, /root and the other system trees, not a user's home."""
    what = "an absolute folder of its own, like \"/mnt/ssd\""
    if not value.startswith("/"):
        raise ValueError(f"expected {what}; got {shown(value)}: it is not absolute")
    out = "/" + "/".join(_segments(value, what))
    tree = next((t for t in SYSTEM_TREES if out.startswith(t + "/")), None)
    if out in SYSTEM_FOLDERS:
        why = f"{out} is a system folder (mounting the drive there would hide or replace what the system keeps in it)"
    elif tree is not None:
        why = (f"{out} is inside the system folder {tree} (mounting the drive there would hide or replace what "
               "the system keeps in that folder)")
    elif out.startswith("/home/") and out.count("/") == 2:
        raise ValueError(f"{out} is a user's home folder (mounting the drive over it would hide everything in it): "
                         f"use a folder inside it, like {out}/ssd, or one of its own, like /mnt/ssd")
    else:
        return out
    raise ValueError(f"{why}: {_INSTEAD}")


def svg_path(value: str) -> str:
    """A file the tool reads (the logo), relative to the cluster file or absolute, named .svg.
    It reaches no configuration, so spaces are fine; control characters are not."""
    what = "the path of an SVG file, like \"logo.svg\""
    why = unsafe_char(value)
    if why is not None:
        raise ValueError(f"expected {what}; got {shown(value)}: it contains the control character {why}")
    if len(value) > 1024 or not value.lower().endswith(".svg"):
        raise ValueError(f"expected {what}; got {shown(value)}: "
                         + ("longer than 1024 characters" if len(value) > 1024 else "its name does not end in .svg"))
    return value


def text(limit: int):
    """Free text that reaches no configuration (a description, a BOM note): anything printable,
    up to `limit` characters; no control characters, bidi marks or line separators."""

    def check(value: str) -> str:
        why = unsafe_char(value)
        if why is not None:
            raise ValueError(f"expected text on one line; got {shown(value)}: it contains the control character {why}")
        if len(value) > limit:
            raise ValueError(f"expected text of at most {limit} characters; got {shown(value)}")
        return value

    return check
