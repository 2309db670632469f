"""Examples of using cosmobot from other code; the README quotes them."""
