"""The public monitoring site: snapshots of the national picture, rankings, agencies, services
and centres, read without login; `onestop publish` writes it as static files.
"""
