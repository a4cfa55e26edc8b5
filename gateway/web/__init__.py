"""HTTP vocabulary for the request path: the request as read from ASGI (request.py), the CORS decisions
(cors.py) and the one response writer (responses.py). The fronts that call the path live in gateway/routes/."""
