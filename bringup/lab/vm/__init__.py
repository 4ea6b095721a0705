"""The VM lab (`bringup lab up|verify|down --vm`): every node a QEMU virtual machine running
Debian 12 with systemd, NetworkManager, the real daemons and kernel NFS, on tap links inside the
lab's own network namespaces. The namespace lab is the fast lane; this is the truth lane.

image    the base image: mmdebstrap from Debian packages, pirack from a wheel, cached by inputs
qemu     QEMU command lines (pure), the accelerator probe, one VM's process and console
net      the lab's namespaces, bridges and taps for VMs (pure batches)
lab      up / reboot / down, with the state file; SSH into a guest
probe    the checks run inside a slave VM (python3 -m bringup.lab.vm.probe)
verify   `lab verify --vm`: the probes from the slaves and the uplink, plus each node's state
"""
