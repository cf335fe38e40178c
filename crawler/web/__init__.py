"""`newsarchive serve`: a read-only web UI and JSON API over storage.query (see app.py)."""

from crawler.web.app import create_app

__all__ = ["create_app"]
