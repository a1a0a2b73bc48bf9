"""Access decisions: doors and their accepted credentials, access rules and holidays, the pure ``decide``
function, and the service that loads its inputs, calls it and records the outcome in one transaction.
"""
