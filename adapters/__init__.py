"""Everything in brokerwire that touches a socket, a thread, a clock or an event loop.

The protocol logic lives in ``brokerwire.core``; the modules here only move its bytes and run
its timers.

brokerwire logs through loggers under ``brokerwire`` (``brokerwire.client``,
``brokerwire.threaded`` ...), all of them in this package. A ``NullHandler`` on ``brokerwire``
keeps a program that has not set up logging free of output it did not ask for (Python would
otherwise print warnings to stderr); a program that configures logging sees every record.
"""

import logging

logging.getLogger("brokerwire").addHandler(logging.NullHandler())
