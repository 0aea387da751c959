"""Reports: PDF and HTML renderings of a view, on demand and on a schedule."""
