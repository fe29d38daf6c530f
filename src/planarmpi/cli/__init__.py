"""The ``planarmpi`` command line: a thin shell over the library."""
