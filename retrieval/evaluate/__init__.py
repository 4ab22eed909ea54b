"""`python -m retrieval.evaluate`: a command line kept as it was; the tool is retrieval/tools/evaluate.py."""
