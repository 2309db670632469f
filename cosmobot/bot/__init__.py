"""What talks to Telegram: the Application, its handlers and texts, pacing and retries."""
