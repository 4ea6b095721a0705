"""The converge engine (pyinfra style): facts read, resources compare, the runner applies.

facts.py      read-only questions about the machine (a file's bytes, a package, a command's output)
resources.py  one small class per managed thing: current() / diff() / apply(change); a fact is read
              fresh each time, and a file is written only if it is still what its diff saw
journal.py    each run's backups and manifest; revert (which stops at a file edited since the run)
runner.py     plan, run, verify: checks before writes, services after

Every file access goes through pirack.fsutil.NodeTree: resolved inside the root, never through a
link out of it, a link where a file should be refused.
"""
