"""Figures and reports: variant landscapes, ISM logos, HTML reports, and their shared style."""
