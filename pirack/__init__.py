"""pirack: the shared half of the toolkit — the cluster description and the parts catalog.

Nothing here imports the CAD stack: `bringup` loads the same cluster file on a Raspberry Pi.
"""

__version__ = "0.1.0"
