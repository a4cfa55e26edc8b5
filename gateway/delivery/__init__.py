"""The request path: resolve, gate, plan, hit or render, respond, record (read path.py first)."""
