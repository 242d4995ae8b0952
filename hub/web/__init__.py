"""The central command console: a Starlette app served by the hub (`police-kiosk hub --http HOST:PORT`).

Server-rendered Jinja2 pages, live parts updated by one Server-Sent Events stream per tab (htmx and its
SSE extension, vendored in `static/`), a JSON API with the same rights (`docs/central-api.md`). It reads
what the hub stored through its own query module and keeps its own tables (accounts, sessions, audit,
seen marks, incidents rebuilt from `alarm.*` events), prefixed `console_`.
"""
