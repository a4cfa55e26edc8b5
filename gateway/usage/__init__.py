"""Usage counters on the request path: counted in memory per request (``hooks``), added to the usage store every
few seconds and at shutdown (``flusher``), and the store the settings choose (``stores``)."""
