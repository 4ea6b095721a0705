"""Power: the PoE switch's ports and budget, each node's supply, and the board's USB limit.

Rules (the numbers come from the catalog; each part file names its sources):
- POE_PORTS: PoE-powered nodes (a HAT with a PoE standard) vs the switch's PoE ports, and all
  nodes vs all ports (error when over).
- POE_BUDGET: reported both ways. By class: what the switch sets aside per port for the class
  the HAT declares (the switch's `poe_class_allocation_w`: 30 W for Class 4 at the PSE). By
  worst case: board max_w + bus-powered USB through the HAT at output_w/input_max_w
  efficiency, never over the HAT's class limit. The worst case over the budget is an ERROR;
  the allocation over it depends on the switch (`poe_allocation`): "class" an ERROR (the node
  that boots last stays dark), "draw" an info line, unknown a WARNING that says what to find
  out. A HAT asking more than the switch's per-port maximum is an error.
- USB_CURRENT reads the board's limit under the conditions this cluster gives it (a Pi 5:
  600 mA unless a HAT+ declares its supply; the file names no 5 A supply).
- NODE_POWER: board max_w plus bus-powered USB devices on the node (drive current × 5 V)
  vs the HAT's output_w: error over 100 %, warning from 80 %.
- USB_CURRENT: the peak current of bus-powered drives vs the board's `usb_current_max_a`.
  Over the limit is an ERROR when the drive's current figure is verified (a source marked
  official_drawing = true covers it) and a WARNING, carrying the seed's story, when it is not:
  the default cluster's 1.7 A is a recalled label rating, and a check must not fail a design on
  an unchecked number — nor stay quiet about it. From 80 % of the limit: a warning.
"""

from __future__ import annotations

from pirack.catalog import Board, Drive, Hat, PartBase, Switch
from pirack.load import LoadedCluster
from pirack.spec import Node

from ..findings import Finding

USB_V = 5.0
HEADROOM = 0.8  # from this share of a limit: a warning


def _verified(part: PartBase, key: str) -> bool:
    """True if a source checked against an official drawing or standard covers `key`."""
    for s in part.sources:
        for f in s.figures:
            if f == "*" or key == f or key.startswith(f + "."):
                if s.official_drawing:
                    return True
    return False


def _bus_powered_drive(lc: LoadedCluster) -> tuple[Drive | None, str | None]:
    """The drive that draws its power from a node's USB ports, and that node (else None, None)."""
    st, cat = lc.spec.storage, lc.catalog
    if st is None:
        return None, None
    drive = cat.get(st.drive, "drive")
    cable = cat.get(st.cable, "cable") if st.cable else None
    if drive is None or st.powered or (cable is not None and cable.powered):
        return None, None
    return drive, st.node or lc.spec.master.name


def _usb_a(lc: LoadedCluster, node: Node) -> float:
    """Peak current of bus-powered USB drives hanging on this node."""
    drive, on = _bus_powered_drive(lc)
    if drive is None or on != node.name:
        return 0.0
    return drive.power.current_5v_a or 0.0


def _pse_draw(lc: LoadedCluster, node: Node, hat: Hat) -> float:
    """What a PoE node may take from its port under load: board max + bus-powered USB, through
    the HAT at the efficiency its ratings imply (output_w / input_max_w, 78 % for the PoE+ HAT:
    pessimistic), never more than its class allocation."""
    board = lc.catalog.get(node.board, "board")
    need = (board.power.max_w or 0.0) + _usb_a(lc, node) * USB_V if board else 0.0
    if hat.output_w and hat.input_max_w:
        return min(need * hat.input_max_w / hat.output_w, hat.input_max_w)
    return hat.input_max_w or need


def _names(names: list[str], k: int = 6) -> str:
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def _bigger_switch(lc: LoadedCluster, nodes: int, poe: int) -> str:
    """What to do: the catalog's switches with a port for each node and PoE for each PoE node."""
    fits = [s.id for s in lc.catalog.of_kind(Switch) if s.ports >= nodes and s.poe_ports >= poe]
    if fits:
        return f"rack.switch = one with enough ports: {', '.join(fits)}"
    return "no switch in the catalog has enough ports: add yours under parts/ beside the cluster file, or fewer nodes"


def _ports(lc: LoadedCluster, switch: Switch, poe: list[tuple[Node, Hat]]) -> list[Finding]:
    nodes, out = lc.spec.nodes, []
    bigger = _bigger_switch(lc, len(nodes), len(poe))
    if len(nodes) > switch.ports:
        out.append(Finding("error", "POE_PORTS", f"{len(nodes)} nodes but {switch.id} has {switch.ports} ports",
                           fix=bigger, parts=(switch.id,),
                           value=len(nodes), unit="ports", limit=switch.ports))
    if len(poe) > switch.poe_ports:
        unpowered = [n.name for n, _ in poe[switch.poe_ports:]]
        out.append(Finding("error", "POE_PORTS",
                           f"{len(poe)} PoE-powered nodes but {switch.id} has {switch.poe_ports} PoE ports: "
                           f"{_names(unpowered)} {'gets' if len(unpowered) == 1 else 'get'} no power",
                           fix=bigger + " (or a separate supply for the others)",
                           parts=(switch.id,), value=len(poe), unit="ports", limit=switch.poe_ports))
    for n, h in poe:
        if h.input_max_w and h.input_max_w > switch.poe_port_max_w + 1e-9:
            out.append(Finding("error", "POE_BUDGET",
                               f"{n.name}: {h.id} may draw {h.input_max_w:g} W, a port of {switch.id} gives "
                               f"{switch.poe_port_max_w:g} W", fix="a PoE++ switch, or another HAT",
                               parts=(h.id, switch.id), value=h.input_max_w, unit="W", limit=switch.poe_port_max_w,
                               node=n.name))
    return out


ALLOCATION_TO_MEASURE = (
    "how your switch shares its PoE budget: its manual or datasheet says whether it reserves each port's class "
    "allocation (then the node that boots last stays dark) or allocates by measured draw; or plug the nodes in one "
    "by one and see that the last one powers up")


def _budget(lc: LoadedCluster, switch: Switch, poe: list[tuple[Node, Hat]]) -> list[Finding]:
    """Both figures, by class allocation (what the switch sets aside for each port from the class
    the HAT declares: 30 W for Class 4) and by worst-case draw. The worst case over the budget
    is an error; the allocation over it is an error for a switch known to reserve by class,
    an info line for one known to allocate by draw, and for a switch whose way no source gives,
    a warning that says what to find out (the seed ran two Class 4 HATs on its 5-port switch)."""
    if not poe:
        return []
    alloc = sum(switch.allocation_w(h.poe_class if h.poe_class is not None else None) for _, h in poe)
    worst = sum(_pse_draw(lc, n, h) for n, h in poe)
    budget = switch.poe_budget_w
    msg = (f"{len(poe)} PoE nodes: class allocation {alloc:g} W, worst-case draw {worst:.1f} W, "
           f"{switch.id}'s budget {budget:g} W")
    common = dict(parts=(switch.id,), unit="W", limit=budget)
    if worst > budget + 1e-9:
        return [Finding("error", "POE_BUDGET", msg + ": the switch cuts power to a node under load",
                        fix="a switch with a larger PoE budget, or power some nodes from their own supply",
                        value=round(worst, 2), **common)]
    if alloc <= budget + 1e-9:
        return [Finding("info", "POE_BUDGET", msg + f"; {budget - alloc:g} W spare by class", value=alloc, **common)]
    over = msg + f": the allocation is {alloc - budget:g} W over the budget, the worst-case draw fits"
    if switch.poe_allocation == "class":
        return [Finding("error", "POE_BUDGET", over + f"; {switch.id} reserves by class, so the node that boots last "
                        "gets no power", fix="a switch with a budget of at least the class allocation, or fewer PoE "
                        "nodes", value=alloc, **common)]
    if switch.poe_allocation == "draw":
        return [Finding("info", "POE_BUDGET", over + f"; {switch.id} allocates by draw", value=alloc, **common)]
    return [Finding("warning", "POE_BUDGET", over + "; whether the switch reserves by class is not in its sources",
                    fix="if it reserves by class: a switch with a larger budget", value=alloc,
                    measure=ALLOCATION_TO_MEASURE, **common)]


def _node_power(node: Node, board: Board, hat: Hat, drive: Drive | None, usb_a: float) -> list[Finding]:
    need = board.power.max_w + usb_a * USB_V
    share = need / hat.output_w
    msg = (f"{node.name}: board {board.power.max_w:g} W"
           + (f" + {drive.id} {usb_a:g} A × 5 V = {usb_a * USB_V:g} W" if usb_a else "")
           + f" = {need:g} W of {hat.id}'s {hat.output_w:g} W ({share:.0%})")
    common = dict(parts=(board.id, hat.id), value=need, unit="W", limit=hat.output_w, node=node.name)
    if share > 1.0 + 1e-9:
        return [Finding("error", "NODE_POWER", msg,
                        fix="a powered USB hub or enclosure for the drive, or a stronger supply", **common)]
    if share >= HEADROOM:
        return [Finding("warning", "NODE_POWER", msg + ": little headroom",
                        fix="a powered USB hub or enclosure for the drive", **common)]
    return [Finding("info", "NODE_POWER", msg, **common)]


def usb_conditions(hat: Hat | None) -> tuple[str, ...]:
    """What raises a board's USB current here (pirack.catalog.USB_CONDITIONS): a HAT+ that
    declares its supply. The cluster file names no supply, so a 5 A USB-PD supply is not assumed."""
    return ("hat-plus-declares-supply",) if hat is not None and hat.declares_supply else ()


def _usb_current(node: Node, board: Board, drive: Drive, usb_a: float, hat: Hat | None = None) -> list[Finding]:
    lim = board.usb_current_a(usb_conditions(hat))
    typ = (f"; its measured sustained write draw is about {drive.power.typical_w / USB_V:.2f} A"
           if drive.power.typical_w else "")
    head = (f"{node.name}: bus-powered {drive.id} peaks at {usb_a:g} A on the USB ports of {board.id}, "
            f"which give {lim:g} A in total ({usb_a / lim:.0%})")
    fix = ("give the drive its own power (a powered USB hub or enclosure; storage.powered = true), "
           "or a separate supply for this node")
    raised = board.usb_current_raised
    if raised is not None and lim < raised.current_a:
        fix += (f"; {board.id} gives {raised.current_a:g} A only with a 5 A USB-PD supply, a HAT+ that declares its "
                "supply, or usb_max_current_enable=1 in config.txt (only if the supply can deliver it)")
    story = (" — the seed's failure: its PoE-powered master lost this SSD when a slave booted, "
             "and net boot was abandoned")
    common = dict(fix=fix, parts=(drive.id, board.id), value=usb_a, unit="A", limit=lim, node=node.name)
    if usb_a > lim + 1e-9:
        if _verified(drive, "power.current_5v_a"):
            return [Finding("error", "USB_CURRENT", head + story, **common)]
        return [Finding("warning", "USB_CURRENT", head + f"{story}. The {usb_a:g} A figure is unverified (an error "
                        f"once a checked source confirms it){typ}", **common)]
    if usb_a >= HEADROOM * lim:
        return [Finding("warning", "USB_CURRENT", head + ": little headroom" + typ, **common)]
    return []


def check(lc: LoadedCluster) -> list[Finding]:
    """The switch's PoE ports and budget, then each node's supply and USB current."""
    out = _switch_power(lc)
    drive, drive_node = _bus_powered_drive(lc)
    for n in lc.spec.nodes:
        out += _node_supply(lc, n, drive, drive_node)
    return out


def _switch_power(lc: LoadedCluster) -> list[Finding]:
    """The PoE switch's ports and budget (POE_PORTS, POE_BUDGET); nothing without a switch."""
    spec, cat = lc.spec, lc.catalog
    switch = cat.get(spec.rack.switch, "switch") if spec.rack.switch else None
    poe = [(n, cat.get(n.hat, "hat")) for n in spec.nodes if n.hat]
    poe = [(n, h) for n, h in poe if h is not None and h.poe_standard]
    if switch is None:
        return []
    return _ports(lc, switch, poe) + _budget(lc, switch, poe)


def _node_supply(lc: LoadedCluster, n: Node, drive: Drive | None, drive_node: str | None) -> list[Finding]:
    """One node's supply through its HAT (NODE_POWER) and its board's USB current (USB_CURRENT)."""
    cat = lc.catalog
    out: list[Finding] = []
    board = cat.get(n.board, "board")
    hat = cat.get(n.hat, "hat") if n.hat else None
    usb_a = drive.power.current_5v_a if (drive is not None and n.name == drive_node
                                         and drive.power.current_5v_a) else 0.0
    if hat is not None and hat.output_w and board is not None and board.power.max_w:
        out += _node_power(n, board, hat, drive, usb_a)
    if usb_a and board is not None and board.usb_current_a(usb_conditions(hat)):
        out += _usb_current(n, board, drive, usb_a, hat)
    return out
