"""The HTTP edge: ASGI pieces in front of the routes (CORS, the hit fast path, response writers)."""
