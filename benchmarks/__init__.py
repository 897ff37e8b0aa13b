"""Decode-throughput benchmarks: ``python -m benchmarks [--quick] [--json PATH]``.

Every workload is a deterministic server-to-client byte stream fed, 64 KiB at a time, through
brokerwire's full client connection (bytes in, events out) and, in the same run, through the
baselines: the pipeline a reader of the brokers' documents would write on wsproto, websockets'
sans-I/O protocol with ``json.loads`` and with ``orjson.loads`` (what a speed-minded user
writes), and the floors: ``json``, orjson and msgspec alone on the already-extracted payloads,
the last into typed Structs like the events brokerwire delivers.
"""
