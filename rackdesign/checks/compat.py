"""HAT_FIT: each node's HAT against its board.

The loader (pirack.load.check_cluster) already refuses a HAT that does not fit as bad input
(exit 2). This check repeats the rule for specs that reach the checks without the loader (a
spec built in code, a catalog fixture), so a Pi 4 PoE+ HAT on a Pi 5 is never silent.
"""

from __future__ import annotations

from pirack.load import LoadedCluster

from ..findings import Finding


def check(lc: LoadedCluster) -> list[Finding]:
    out = []
    cat = lc.catalog
    for n in lc.spec.nodes:
        if not n.hat:
            continue
        board, hat = cat.get(n.board, "board"), cat.get(n.hat, "hat")
        if board is None or hat is None:
            continue
        if board.family not in hat.fits:
            why = hat.does_not_fit.get(board.family, f"it is made for {', '.join(hat.fits)}")
            out.append(Finding(
                "error", "HAT_FIT", f"{n.name}: {hat.id} does not fit a {board.name} ({board.family}): {why}",
                fix=f"choose a HAT whose `fits` lists {board.family}, or another board", parts=(hat.id, board.id),
                node=n.name))
    return out
