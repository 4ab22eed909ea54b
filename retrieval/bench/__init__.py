"""`python -m retrieval.bench`: a command line kept as it was; the tool is retrieval/tools/bench/."""
