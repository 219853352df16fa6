"""Writes (DESIGN §1): every change to the portal's data and every call that spends money
or changes the account goes through these modules, imported by name (`from
inventory.services import purchase`). Functions are keyword-only and typed; views call one
of them and show what it returns or raises.

- operations: the protocol every buy, cancel and configure follows (`ApiOperation`);
- purchase, configure, cancel: the three operations; settlement: unknown outcomes settled;
- numbers: what only the portal keeps about a number; cache: the owned-number cache;
- catalogue: searches and offers; sync: mirroring the account; leases, workers: who holds
  what, and the task workers' heartbeat; events: audited logins and refusals.
"""
