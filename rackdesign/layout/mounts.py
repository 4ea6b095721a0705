"""How a board is held on its tier: the spacer under it, the screw up through the plate into
that spacer, and either the HAT's spacers and screws on top (a HAT) or a screw down through
the board (no HAT).

Prefers the board's own thread; the seed used M2.6 brass spacers (M2.6 passes the Pi's
Ø2.7 M2.5 holes), so the other of M2.5/M2.6 is the fallback. Where the choice breaks a thread
or hole rule, the mount carries a finding saying so.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..findings import Finding, LayoutError
from ..geometry3d import Mm
from ..partspec import BoardSpec, HatSpec, ScrewSpec, SpacerSpec
from ..stack import CHOSEN_CLOSEST, choose_screw
from .allowed import AllowedFasteners
from .inputs import NodeParts

# Board standoff height (plate top face to board bottom face): the seed's 5 mm brass spacers.
BOARD_STANDOFF = 5.0
FALLBACK_THREADS = ("M2.5", "M2.6")
STANDOFF_TOL = 0.05  # mm: a HAT spacer this close to the HAT's standoff is that standoff


@dataclass(frozen=True)
class BoardMount:
    board_spacer: SpacerSpec  # under the board; M-F under a HAT (its male thread takes the HAT spacer)
    plate_screw: ScrewSpec  # up through the plate into the board spacer
    hat_spacer: SpacerSpec | None = None  # the HAT's standoffs, on the board spacers' male threads
    hat_screw: ScrewSpec | None = None  # down through the HAT into its spacers
    top_screw: ScrewSpec | None = None  # no HAT: down through the board into its spacer
    findings: tuple[Finding, ...] = ()

    @property
    def standoff(self) -> Mm:
        """Plate top face to the board's bottom face."""
        return self.board_spacer.length

    @property
    def thread(self) -> str:
        """The thread of the board's holes in the plate."""
        return self.board_spacer.thread

    @property
    def head_above(self) -> Mm:
        """What the HAT screws' heads add on top of the HAT (0 without a HAT)."""
        return self.hat_screw.head_height if self.hat_screw else 0.0


def choose_mount(fasteners: AllowedFasteners, node_parts: NodeParts, sheet_range: tuple[Mm, Mm]) -> BoardMount:
    """The mount of a node's board on its tier plate (a LayoutError when the allowed parts have
    no spacer or screw for it), through a sheet of `sheet_range` (thinnest, thickest)."""
    node, board, hat, plate = node_parts.name, node_parts.board, node_parts.hat, node_parts.plate
    findings: list[Finding] = []
    spacer = _board_spacer(fasteners, board, hat, plate, sheet_range)
    if spacer.thread != board.hole_thread:
        findings.append(Finding(
            "warning", "HOLE_SIZE", f"board spacers {spacer.id} are {spacer.thread}, the board's holes are for "
            f"{board.hole_thread} (the seed did the same: M2.6 passes the Ø{board.hole_diameter:g} holes)",
            fix=CHOSEN_CLOSEST, node=node, where=node))
    choice = choose_screw(fasteners.screws, spacer.thread, sheet_range, spacer.female_depth, what="board screw")
    if not choice.ok:
        findings.append(choice.finding(f"{node}: board screws", node))
    plate_screw = fasteners.chosen_screw(choice, spacer.thread,
                                         f"board {board.id} (up through the plate into {spacer.id})", plate)
    if hat is None:
        top = choose_screw(fasteners.screws, spacer.thread, (board.thickness, board.thickness), spacer.female_depth,
                           what="board screw")
        if not top.ok:
            findings.append(top.finding(f"{node}: board screws from above", node))
        top_screw = fasteners[top.part_id] if top.part_id else None
        return BoardMount(spacer, plate_screw, top_screw=top_screw, findings=tuple(findings))
    hat_spacer, hat_screw = _hat_fasteners(fasteners, spacer, hat, plate)
    if hat_spacer.thread != spacer.thread:
        findings.append(Finding("warning", "THREAD_MISMATCH", f"the board spacer's {spacer.thread} male thread goes "
                                f"into the HAT spacer {hat_spacer.id} ({hat_spacer.thread}): the threads differ",
                                fix=CHOSEN_CLOSEST, node=node, where=node))
    if hat_screw.thread != hat_spacer.thread:
        findings.append(Finding("warning", "THREAD_MISMATCH", f"HAT screws {hat_screw.id} ({hat_screw.thread}) into "
                                f"HAT spacers {hat_spacer.id} ({hat_spacer.thread}): the threads differ",
                                fix=CHOSEN_CLOSEST, node=node, where=node))
    return BoardMount(spacer, plate_screw, hat_spacer, hat_screw, findings=tuple(findings))


def _board_spacer(fasteners: AllowedFasteners, board: BoardSpec, hat: HatSpec | None, plate: str,
                  sheet_range: tuple[Mm, Mm]) -> SpacerSpec:
    """The spacer nearest the standoff in the board's thread (else the fallback thread): M-F
    under a HAT, F-F without one; first those whose ends take an allowed screw (from below
    through the plate, and without a HAT from above through the board: a short F-F has too
    little thread at each end for both)."""
    threads = [board.hole_thread] + [th for th in FALLBACK_THREADS if th != board.hole_thread]
    style = "male-female" if hat is not None else "female-female"

    def screws_fit(p: SpacerSpec) -> bool:
        below = choose_screw(fasteners.screws, p.thread, sheet_range, p.female_depth).ok
        t = board.thickness
        return below and (hat is not None or choose_screw(fasteners.screws, p.thread, (t, t), p.female_depth).ok)

    for th in threads:
        cands = [p for p in fasteners.spacers if p.thread == th and p.style == style]
        if cands:
            return min(cands, key=lambda p: (not screws_fit(p), abs(p.length - BOARD_STANDOFF), p.length))
    raise LayoutError("NO_SPACER", f"{plate}: no {style} spacer ({' or '.join(threads)}) to hold "
                      f"{board.id} by its {board.hole_thread} holes",
                      fasteners.where_to_add("spacer", f"{board.hole_thread} {style} spacers",
                                             lambda p: p.thread in threads and p.style == style))


def _hat_fasteners(fasteners: AllowedFasteners, board_spacer: SpacerSpec, hat: HatSpec,
                   plate: str) -> tuple[SpacerSpec, ScrewSpec]:
    """The HAT's spacers (those in its box when they have its standoff, else F-F spacers of the
    standoff) and its screws (those in its box, else the best of the allowed ones)."""
    boxed_spacers = [fasteners[pid] for pid in hat.included if fasteners.kind(pid) == "spacer"]
    boxed_screws = [fasteners[pid] for pid in hat.included if fasteners.kind(pid) == "screw"]
    spacer = boxed_spacers[0] if boxed_spacers else None
    if spacer is None or abs(spacer.length - hat.standoff) > STANDOFF_TOL:
        spacer = _standoff_spacer(fasteners, board_spacer, hat, plate)
    return spacer, _hat_screw(fasteners, spacer, hat, plate, boxed_screws)


def _standoff_spacer(fasteners: AllowedFasteners, board_spacer: SpacerSpec, hat: HatSpec, plate: str) -> SpacerSpec:
    """A female-female spacer of the HAT's standoff, of the board spacers' thread if there is one."""
    def standoff(p: SpacerSpec) -> bool:
        return p.style == "female-female" and abs(p.length - hat.standoff) <= STANDOFF_TOL

    cands = [p for p in fasteners.spacers if standoff(p)]
    if not cands:
        raise LayoutError("NO_SPACER", f"{plate}: no female-female spacer of the {hat.standoff:g} mm standoff "
                          f"of {hat.id}",
                          fasteners.where_to_add("spacer", f"{hat.standoff:g} mm female-female spacers", standoff))
    return min(cands, key=lambda p: (p.thread != board_spacer.thread, p.id))


def _hat_screw(fasteners: AllowedFasteners, spacer: SpacerSpec, hat: HatSpec, plate: str,
               boxed_screws: list[ScrewSpec]) -> ScrewSpec:
    """The screws in the HAT's box, unless they do not match its spacers' thread and an allowed screw does."""
    choice = choose_screw(fasteners.screws, spacer.thread, (hat.thickness, hat.thickness), spacer.female_depth,
                          what="HAT screw")
    boxed = [s for s in boxed_screws if s.thread == spacer.thread] or boxed_screws
    if boxed and (boxed[0].thread == spacer.thread or not choice.ok):
        return boxed[0]  # the screws in the HAT's box (the seed reused them)
    # the box's screws do not match its spacers' thread (the seed's were M2.6): a clean pair wins
    return fasteners.chosen_screw(choice, spacer.thread, f"HAT {hat.id} (into {spacer.id})", plate)
