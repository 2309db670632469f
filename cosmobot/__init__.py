"""cosmobot: a Telegram bot that sends cosmic images instantly through a file_id cache."""

__version__ = "0.1.0"
