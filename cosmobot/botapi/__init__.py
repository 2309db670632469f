"""The Bot API edge: one send by file_id or upload, retries, pacing, and the long poll's request.

It knows Telegram and the storage below it, and nothing of what handles updates above it.
"""
