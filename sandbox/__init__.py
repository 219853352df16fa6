"""A simulator of the KPN-hosted Vonage Phone Numbers API, served as its own HTTP service.

The portal, its tests and its demo all talk to this sandbox over a real socket. It never
imports the portal and never uses the portal's database: its state lives in its own SQLite
file (see `state.py`), and it is configured by `SandboxOptions`, not by Django settings.
"""
