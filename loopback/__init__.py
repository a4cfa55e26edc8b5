"""Real servers on loopback for the project's own tooling: the integration tests and ``make bench``.

Both start ``imgate serve`` as an operator would and need a free port, so the one launcher lives here,
in a package of its own: the bench must not import the test suite, and the tests must not import the
bench. It is development tooling, not part of the installed package (pyproject lists only ``gateway``
and ``transforms``), and imports nothing but the standard library.

    ports.py      free_port: a loopback port nothing listens on
    processes.py  ManagedProcess (a child in its own process group, logged to a file), wait_until_answering
    gateway.py    GatewayProcess: ``imgate serve`` in a child process with its own data folder and settings
"""
