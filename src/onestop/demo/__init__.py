"""`onestop demo`: a realistic, deterministic history of applications for a loaded country.

`generator` plans the history from a seed without touching the database (pure Python);
`writer` loads what the plan needs from the register, creates the demo accounts, and writes
the planned rows in bulk through the same tables and fields a real submission fills.
"""
