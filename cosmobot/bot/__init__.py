"""What handles updates: the Application and its handlers, inline mode, /stats, fair shares."""
