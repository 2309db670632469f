"""Mutation check: small deliberate bugs in cosmobot, each of which some test must catch.

`python -m tests.mutation` copies the checkout to a scratch folder, puts in one mutant at a
time (a flipped comparison, a dropped condition, a wrong date or zone...), runs the tests
named for it, and reports which mutants no test noticed. The mutants are listed by layer in
the `*_mutants.py` modules, gathered in `catalogue.py`; a mutant whose original text is no
longer in the code is reported as stale.
"""
