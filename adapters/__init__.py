"""Everything in brokerwire that touches a socket, a thread, a clock or an event loop.

The protocol logic lives in ``brokerwire.core``; the modules here only move its bytes and run
its timers.
"""
