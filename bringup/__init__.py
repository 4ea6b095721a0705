"""bringup: cluster spec -> node plan -> rendered files and commands -> converge -> verify.

Runs on a Raspberry Pi node: it must never import the CAD stack.
"""
