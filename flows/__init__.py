"""Prefect wiring and I/O of newsclean: sources, seeds, Parquet store, reports, CLI."""
