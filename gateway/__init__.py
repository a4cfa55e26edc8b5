"""The HTTP edge of imgate."""
