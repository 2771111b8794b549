"""Great Expectations suites for newsclean's tables, written as code."""
