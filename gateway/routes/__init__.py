"""HTTP routes. Routes call services (``request.app.state.services``); services never import routes."""
