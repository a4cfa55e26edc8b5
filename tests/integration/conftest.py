from __future__ import annotations

from tests.support.moto_server import aws_test_env, moto_endpoint

__all__ = ["aws_test_env", "moto_endpoint"]
