"""Pure imaging for imgate: bytes in, bytes out. Imports nothing from ``gateway``."""
