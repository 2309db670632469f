"""What runs on its own: the JobQueue jobs, daily rounds and the cache warm-up."""
