"""The reading room (``cablelake serve``): a local, read-only web app to search and read one lake.

Pages: search (query box, facets, hits with snippets, paging), a cable (every field, paragraphs with their
portion marks, REF links and backlinks, raw text, lineage), the quarantine, and the dashboard. Built on
Starlette + Jinja2, served by uvicorn on 127.0.0.1 by default. It comes after the search stage and the
dashboard: it imports them, nothing imports it but the CLI.
"""

from etl.web._app import create_app, facet_query, serve

__all__ = ["create_app", "facet_query", "serve"]
