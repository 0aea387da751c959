"""Dash pages: one module per URL, with `dash.register_page` and `layout(**query)`."""
