"""Custom domains: hostnames a workspace serves its images on, without the namespace in the path.

    normalise.py   a hostname as stored and compared (``comparable_host``, the one reading of a Host), what is
                   refused (IP literals, the gateway's own hosts, a bare public suffix), and ``bindable``
    verify.py      the DNS check, proof that names the claim's token: a CNAME chain that reaches
                   ``<token>.<cname_target>``, or the TXT record ``_imgate-challenge.<host>`` (dnspython)
    recheck.py     applying a check to the record (pending, verified, failed; pending ones expire) and the
                   periodic re-check

The Host of a request (the gateway's own, or a name to look up) is ``gateway.web.hosts``.

The records and their store are ``gateway.accounts.domains``; the operations are ``gateway.admin.domains``.
"""
