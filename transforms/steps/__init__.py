"""One module per pipeline step; ``transforms.pipeline.PIPELINE`` lists them in order.

A step is ``step(ctx) -> None``: it reads the shared ``Context``, returns early when it does not
apply, and otherwise replaces ``ctx.image`` (or sets what it owns). Steps never call each other.
"""
