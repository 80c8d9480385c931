"""Open data: per-period downloads as CSV, JSON and Parquet with small cells suppressed, a data
dictionary and a licence; the Single Digital Gateway statistics export.
"""
