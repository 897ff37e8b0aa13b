"""Code generators whose output is checked in; each has a test that regenerating changes nothing."""
