"""Open311 GeoReport v2 at /open311/v2/: discovery, services, service definitions, requests and
tokens in XML and JSON, with API keys.
"""
