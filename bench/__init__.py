"""`make bench`: imgate measured side by side with thumbor, bare pyvips and nginx in one run.

Entry point: ``python bench/run.py [--corpus DIR] [--quick] [--duration S] [--repeats N] [--only W,...]``.
Everything it starts is bound to 127.0.0.1 and killed when it ends; outputs go to ``bench-results/``.
"""
