"""Marks on the gateway side: auto-apply rules and request-time resolution of presets."""
