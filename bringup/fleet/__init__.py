"""`bringup fleet`: the whole cluster from one place, through Ansible.

`bringup run` converges one node. For a fleet we do not write an SSH orchestrator: we write an
Ansible inventory and playbook from the cluster file (bundle.py) and drive `ansible-playbook`
(driver.py), which on every node installs pirack, copies the cluster file and runs
`bringup run --json` there; Ansible's changed/failed come from bringup's own JSON summary.
lab.py adds what the virtual lab needs (SSH keys, per-node roots, temp folders inside the lab).
"""

INSTALL_HINT = "pip install 'pirack[fleet]'"
