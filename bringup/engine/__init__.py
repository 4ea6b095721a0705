"""The converge engine (pyinfra style): facts read, resources compare, the runner applies.

facts.py      read-only questions about the machine (a file's bytes, a package, a command's output)
resources.py  one small class per managed thing: current() / desired() / diff() / apply()
journal.py    each run's backups and manifest; revert
runner.py     plan, run, verify: checks before writes, services after
"""
