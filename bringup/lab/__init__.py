"""The virtual cluster lab: the real daemons, configured from the bring-up's rendered files,
running in Linux network namespaces on this machine.

`bringup lab up` builds an uplink namespace (the home router: upstream DNS, an NTP source and
a TCP echo service), the master, a switch and one namespace per slave; `verify` proves DHCP,
DNS, TFTP, NFS, NTP, SNAT and SNMP work from where they should and nowhere else; `down` removes
every namespace and process it started, by the PIDs it recorded.
"""
