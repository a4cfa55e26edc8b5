"""What the record step writes for each answer, above the request path it observes: usage counters counted in
memory per request (``hooks``), added to the usage store every few seconds and at shutdown (``flusher``), in the
store the settings choose (``stores``); and the Prometheus metrics and access-log line of each outcome
(``monitoring``; the instruments themselves live low, in ``gateway.metrics``, so backends can record too)."""
