"""rackdesign: cluster spec -> rack layout -> CadQuery assembly -> checks -> drawings -> files.

The CAD stack (cadquery, svgwrite, reportlab, ezdxf) is imported only by the modules that
need it, so `rack validate` and the cache hit of `rack export` stay fast.
"""
