"""What a test does with webhooks: route their traffic to its workers, and see what they got."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from tests.fakebotapi.delivery import Deliveries, Delivery
from tests.fakebotapi.state import TelegramState
from tests.fakebotapi.webhooks import Webhooks


class WebhookControls:
    """FakeBotApi's methods for webhooks; like the rest, usable from any thread."""

    _state: TelegramState
    _webhooks: Webhooks
    _deliveries: Deliveries

    def route_webhook(self, workers: Iterable[str], *, token: str | None = None) -> None:
        """Send the bot's webhook traffic to these workers in turn, as a reverse proxy would.

        Each worker is a base address such as "http://127.0.0.1:8081": the path of the URL the
        bot set is appended, so https://bot.example.org/hook goes to
        http://127.0.0.1:8081/hook. While the bot has no webhook set and routed, its updates
        wait, counted by getWebhookInfo's pending_update_count. `[]` stops the traffic.
        """
        self._deliveries.route(self._state.token(token), workers)

    def deliveries(self, token: str | None = None) -> list[Delivery]:
        """Every POST of an update to a worker so far, in the order they ended."""
        return self._deliveries.records(self._state.token(token))

    def webhook(self, token: str | None = None) -> dict | None:
        """The webhook the bot set, secret_token included; None when it has none.

        Keys: url, secret_token ("" for none), max_connections, ip_address ("" unless given),
        has_custom_certificate, last_error_date (0 for none) and last_error_message.
        """
        hook = self._webhooks.get(self._state.token(token))
        return None if hook is None else dataclasses.asdict(hook)

    @property
    def webhook_timeout(self) -> float:
        """Seconds a worker has to answer an update before Telegram gives up on it (60)."""
        return self._deliveries.webhook_timeout

    @webhook_timeout.setter
    def webhook_timeout(self, seconds: float) -> None:
        self._deliveries.webhook_timeout = seconds
