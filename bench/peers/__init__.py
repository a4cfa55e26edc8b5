"""The servers a workload drives: the gateway under test and its peers, each started by the harness."""
