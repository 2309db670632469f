"""The renderer behind ``assets/generate.py``: generated images, NASA compositions, checks.

A development tool that lives outside the ``cosmobot`` package; the bot never imports it.
Each scene draws from its own seeded generator, so the order of the random draws inside a
scene decides its exact pixels: changes that keep a picture must keep that order.
"""
