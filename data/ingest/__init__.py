"""Ingest: read, validate, store and process uploaded datasets."""
