"""Custom domains: hostnames a workspace serves its images on, without the namespace in the path.

    normalise.py   a hostname as stored and compared, and what is refused (IP literals, the gateway's own
                   hosts, a bare public suffix)
    verify.py      the DNS check: a CNAME chain that reaches ``cname_target``, or the TXT token (dnspython)
    recheck.py     applying a check to the record (pending, verified, failed) and the periodic re-check
    hosts.py       the Host of a request: the gateway's own, or a name to look up as a custom domain

The records and their store are ``gateway.accounts.domains``; the operations are ``gateway.admin.domains``.
"""
