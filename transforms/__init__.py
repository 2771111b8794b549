"""Pure text logic of newsclean: text and records in, text and records out.

Nothing in this package does I/O, reads the environment or imports an orchestration,
validation or storage library; reference data arrives as keyword arguments.
"""
