"""Where originals come from: one module per kind of storage, all behind ``Source``."""
