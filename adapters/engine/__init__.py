"""The clients' shared layer that does no I/O, used by the threaded and the asyncio adapter.

- ``client_engine``: one link's life (connect, authorize, outcomes, reconnect timing).
- ``retrying``: an engine that waits out an authorization refused for now and tries again.
- ``tradovate``, ``ctrader``: each broker's engine and the public request methods of its clients.
- ``client_base``: what both adapters' clients share (state, options, the event queue).
- ``event_queue``: the bounded queue between the link and the user, with conflation.

Nothing here is public API: import the clients from ``brokerwire.adapters.threaded`` or
``brokerwire.adapters.asyncio``.
"""
