"""HTTP/1.1 client exchanges, sans-IO, on h11: the sign-in and token requests of both brokers.

Import from the modules: ``brokerwire.core.http.connection`` (``HttpClientConnection``),
``brokerwire.core.http.request`` (``HttpRequest``, ``make_request``) and
``brokerwire.core.http.events`` (``Response``, ``Failed``, ``TimedOut``).
"""
