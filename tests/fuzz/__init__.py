"""Fuzzing every decoder of the core.

``targets.py`` holds one target per decoder: a function that feeds arbitrary bytes to a fresh
connection, whole and then cut at pseudo-random points, and checks what must hold for any input:
only the documented events come out, a protocol error is a ``RemoteProtocolError`` inside the
one terminal ``Closed`` event, the two feedings agree, no buffer outgrows its configured limit,
and every request made before the bytes arrived gets exactly one outcome.

``tests/core/test_fuzz.py`` runs the targets under hypothesis in the normal test run;
``python -m tests.fuzz --seconds N`` runs them for longer (coverage-guided with atheris when the
``fuzz`` extra is installed, by seed-corpus mutation otherwise).
"""
