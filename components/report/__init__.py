"""Report documents: chart images, HTML and PDF of one analysis or KPI view."""
