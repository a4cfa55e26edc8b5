"""Output caching: keys, the in-memory tier, result stores and single flight."""
