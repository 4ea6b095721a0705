#!/bin/sh
# The README's pictures (docs/img), rendered from the built-in default (two nodes, modelled on the seed's rack) by
# `rack export all`: the front plan, two floor plans (a tier with its board ghosted, the base
# with the drive, the switch and the feet) and the cut sheet. Run from the repository's top
# folder with PYTHONPATH pointing at it.
set -eu
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
SOURCE_DATE_EPOCH=1725062400 rack export all --no-cache --out "$out"
d="$out/seed/drawings"
cp "$d/front-plan.png" "$d/floor-plan-tier-1-master.png" "$d/floor-plan-base.png" docs/img/
pdftoppm -png -r 60 -singlefile "$out/seed/cut/cut-acrylic-cast-3mm-sheet-1.pdf" docs/img/cut-sheet
