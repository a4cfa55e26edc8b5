"""The HTTP edge: the request as read from ASGI (request.py), the CORS decisions (cors.py), the one response
writer (responses.py), and the hit fast path in front of the framework (fasthits.py)."""
