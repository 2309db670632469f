"""What stores: the database, the models, the file_id cache and per-chat state."""
