"""Models of Open311 GeoReport v2."""
