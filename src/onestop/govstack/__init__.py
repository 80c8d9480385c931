"""The GovStack Registration Building Block API as a facade over onestop's services, e-forms,
applications, documents, tasks and statistics.
"""
