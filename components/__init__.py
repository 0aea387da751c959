"""Reusable layout builders and pure figure builders."""
