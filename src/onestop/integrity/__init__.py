"""Integrity and optimisation: corruption-risk red flags, process bottlenecks and the
optimisation report for the control body.
"""
