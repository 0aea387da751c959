"""Data layer: connections, stores, pipelines, repositories and services."""
