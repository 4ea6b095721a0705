"""The commented starting file that `rack init` writes.

HEAD and NODE are format strings (filled per cluster and per node); TAIL is written as it is but
for its switch, the catalog's cheapest with a PoE port for every node (`switch_for`).
Every commented example (`# key = value`) is valid TOML in its table when uncommented
(tests/test_init_template.py uncomments them all).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# The cluster file's cap (what the tools are tested with); the template's addresses would allow 89
# (slaves take .11 upwards, below the DHCP range at .100).
from .spec import MAX_NODES

if TYPE_CHECKING:
    from .catalog import Catalog

SWITCH_MARK = "@SWITCH@"  # in TAIL (not a format string: its comments hold braces)


def switch_for(nodes: int, catalog: Catalog | None = None) -> tuple[str, str]:
    """(switch id, comment): the cheapest catalog switch with a port and PoE for each of `nodes`
    (every node in the template has a PoE HAT); when none has enough, the one with the most
    PoE ports, and the comment says so."""
    from .catalog import Switch, load_catalog

    switches = (catalog or load_catalog()).of_kind(Switch)
    fits = [s for s in switches if s.ports >= nodes and s.poe_ports >= nodes]
    if fits:
        pick = min(fits, key=lambda s: (s.price.amount if s.price else 0, s.ports, s.id))
        return pick.id, f"{pick.poe_ports} PoE+ ports for {nodes} node{'s' if nodes > 1 else ''}"
    pick = max(switches, key=lambda s: (s.poe_ports, s.ports, s.id))
    return pick.id, (f"CHOOSE: no switch in the catalog has {nodes} PoE ports ({pick.id} has {pick.poe_ports}); "
                     "add yours under parts/ beside this file")


def nodes_phrase(nodes: int) -> str:
    """'1 master', '1 master + 1 slave', '1 master + 3 slaves'."""
    slaves = nodes - 1
    return "1 master" if slaves == 0 else f"1 master + {slaves} slave{'s' if slaves > 1 else ''}"


def init_text(nodes: int, name: str = "mycluster") -> str:
    if not 1 <= nodes <= MAX_NODES:
        raise ValueError(f"--nodes must be between 1 and {MAX_NODES}")
    out = [HEAD.format(name=name)]
    out.append(NODE.format(name="master", role="master", mac="02:00:00:50:00:01", addr="192.168.50.1", owned="false"))
    for i in range(1, nodes):
        out.append(NODE.format(name=f"slave{i}", role="slave", mac=f"02:00:00:50:00:{10 + i:02x}",
                               addr=f"192.168.50.{10 + i}", owned="false"))
    switch, why = switch_for(nodes)
    out.append(TAIL.replace(SWITCH_MARK, f'"{switch}"'.ljust(20) + f"  # {why}"))
    return "".join(out)


HEAD = '''# cluster.toml — one file describes your Raspberry Pi cluster: nodes, network, storage, rack.
#   rack validate     check this file          rack export pdf   cut files and drawings
#   rack check        design checks            rack bom          parts list and cost
#   bringup plan      what a node would change bringup run       apply it on the node
# Lengths always carry a unit ("28 mm", "1.1 in"); prices are whole yen.
# Values marked REPLACE are placeholders.

[cluster]
name = "{name}"              # names the output folder: exports/{name}/

[network]
subnet = "192.168.50.0/24"             # the cluster network behind the master
master_address = "192.168.50.1"
dhcp_range = ["192.168.50.100", "192.168.50.199"]   # dynamic leases; static nodes stay outside
cluster_interface = "eth0"             # master's port to the PoE switch
uplink_interface = "wlan0"             # master's link to the home network
uplink_snat_address = "192.168.11.211/24"   # REPLACE: a free address on your home network
upstream_dns = ["192.168.11.1"]        # REPLACE: your home router
ntp_source = "ntp.nict.jp"             # a pool or server the master syncs from
ntp_source_type = "pool"
domain = "cluster.lan"
'''

NODE = '''
[[nodes]]
name = "{name}"
role = "{role}"                 # master | slave
board = "rpi4b-8gb"             # catalog id: `rack validate` lists what exists
hat = "rpi-poe-plus-hat"
mac = "{mac}"      # REPLACE: placeholder (locally administered), the Pi's eth0 MAC
address = "{addr}"
boot = "sd"                     # sd | net (net needs the Pi's serial and [storage])
owned = {owned}                   # true: already owned, not charged in the BOM
'''

TAIL = '''
[storage]                       # the master's SATA SSD over USB; remove the section if none
drive = "ssd-sata-2.5-500gb"
cable = "sata-usb-c"
powered = true                  # its own supply (powered enclosure or hub); false = bus-powered from the
                                # master's USB, which `rack check` warns about (the seed lost its SSD that way)
label = "pirack-ssd"            # filesystem label used in fstab (or uuid = "...")
filesystem = "ext4"
mount_point = "/mnt/ssd"

[[storage.exports]]             # NFS export on the drive for the cluster
name = "data"
path = "data"
root_squash = true

[rack]
sheet = "acrylic-cast-3mm"      # material and thickness of the plates
fabricator = "anymany-pdf"      # the laser-cutting service's profile (colours, sheet size, prices)
switch = @SWITCH@
switch_orientation = "side"     # side | flat
drive_placement = "base"        # base | none
feet = "foot-rubber-tk"
margin = "5 mm"
corner_radius = "4 mm"
min_clearance = "3 mm"

[rack.engraving]
labels = true
# logo = "logo.svg"             # an SVG engraved into free space on a plate
# logo_width = "30 mm"

[purchases]
spare_percent = 0               # extra small fasteners to buy
# acrylic_quote = 7370          # the service's quote wins over our estimate
# owned = { "screw-m3-pan-6" = 10 }          # pieces you already have: listed, not charged
# price_overrides = { "tl-sg1005p" = 5980 }  # what you paid, per pack
'''
