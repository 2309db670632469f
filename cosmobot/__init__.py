"""cosmobot: a Telegram bot that sends cosmic images instantly through a file_id cache.

To send cosmic images from a bot of your own, use cosmobot.sender: setup(database_url,
assets_dir), then send_image() or send_random_cosmic(), and shutdown() when the bot stops.
"""

__version__ = "0.2.0"
