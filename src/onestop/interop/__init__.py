"""Interchange formats: the register as CPSV-AP 3.2 (JSON-LD, Turtle) and the event log as XES
for process mining.
"""
