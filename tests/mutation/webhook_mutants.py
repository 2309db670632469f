"""Mutants of webhook mode: the workers' server, /healthz, the leader's registration, settings."""

from __future__ import annotations

from tests.mutation.mutant import Mutant

SERVER = "cosmobot/bot/webhook.py"
REGISTRATION = "cosmobot/bot/registration.py"
LIFECYCLE = "cosmobot/bot/lifecycle.py"
APP = "cosmobot/bot/app.py"
CONFIG = "cosmobot/config.py"

_SERVER_TESTS = ("tests/test_webhook_server.py",)
_REGISTRATION_TESTS = ("tests/test_webhook_registration.py",)
_CONFIG_TESTS = ("tests/test_config_webhook.py",)
_E2E_SHARE = ("tests/test_e2e_webhook.py::test_workers_share_the_updates_and_one_leader_"
              "registers_once",)

MUTANTS = [
    Mutant("wh-secret-not-checked", SERVER,
           "if not hmac.compare_digest(given, self._secret):", "if False:",
           _SERVER_TESTS, "anyone who finds the URL can post updates as Telegram"),
    Mutant("wh-secret-compared-with-eq", SERVER,
           "if not hmac.compare_digest(given, self._secret):", "if given != self._secret:",
           _SERVER_TESTS, "how much of a guessed secret matched shows in the answer's timing"),
    Mutant("wh-secret-prefix-accepted", SERVER,
           "if not hmac.compare_digest(given, self._secret):",
           "if not given.startswith(self._secret):",
           _SERVER_TESTS, "a header with the secret and more is let in"),
    Mutant("wh-bad-json-crashes", SERVER,
           "except Exception:  # noqa: BLE001 -- not JSON, or JSON that is no update",
           "except ValueError:",
           _SERVER_TESTS, "JSON that is no update answers 500, and Telegram sends it forever"),
    Mutant("wh-wrong-path-served", SERVER,
           "app.router.add_post(webhook.path, self._take_update)",
           'app.router.add_post("/", self._take_update)',
           _SERVER_TESTS + _E2E_SHARE,
           "the worker serves / where the proxy posts to the URL's path"),
    Mutant("wh-healthz-always-200", SERVER,
           "if await self.is_healthy():", "if True:",
           _SERVER_TESTS + ("tests/test_e2e_webhook.py::test_healthz_is_503_while_the_database_"
                            "does_not_answer",),
           "the proxy keeps sending updates to a worker whose database is gone"),
    Mutant("wh-probe-waits-forever", SERVER,
           "await asyncio.wait_for(asyncio.shield(self._reading), self.timeout)",
           "await asyncio.shield(self._reading)",
           _SERVER_TESTS, "/healthz hangs instead of answering 503 while the database is silent"),
    Mutant("wh-probe-piles-up-reads", SERVER,
           "if self._reading is None or self._reading.done():", "if True:",
           _SERVER_TESTS, "every health check adds a read stuck on a silent database"),
    Mutant("wh-registers-every-start", REGISTRATION,
           "if stored == wanted and info.url == webhook.url:", "if False:",
           _REGISTRATION_TESTS + _E2E_SHARE, "every new leader sets the webhook again"),
    Mutant("wh-hand-removed-webhook-left", REGISTRATION,
           "if stored == wanted and info.url == webhook.url:", "if stored == wanted:",
           _REGISTRATION_TESTS, "a webhook removed by hand (or by polling) is never set again"),
    Mutant("wh-new-secret-not-registered", REGISTRATION,
           "json.dumps([webhook.url, webhook.secret, sorted(allowed_updates)])",
           "json.dumps([webhook.url, sorted(allowed_updates)])",
           _REGISTRATION_TESTS, "Telegram keeps the old secret, and every worker refuses it"),
    Mutant("wh-standby-registers", LIFECYCLE,
           "            await self.server.start()\n",
           "            await self.server.start()\n"
           "            from cosmobot.bot.duties import ALLOWED_UPDATES\n"
           "            from cosmobot.bot.registration import register_or_say_why\n"
           "            await register_or_say_why(application.bot, settings.webhook,"
           " ALLOWED_UPDATES)\n",
           _E2E_SHARE, "every worker registers the webhook, not only the leader"),
    Mutant("wh-workers-pace-alone", APP,
           "shared=settings.webhook is not None,", "shared=False,",
           ("tests/test_e2e_webhook.py::test_workers_together_keep_telegrams_flood_limits",),
           "three workers send up to 90 messages a second, and Telegram refuses the rest"),
    Mutant("wh-secret-logged", CONFIG,
           "return ((self.token,) if self.token else ()) + webhook_secret",
           "return (self.token,) if self.token else ()",
           _CONFIG_TESTS, "the webhook's secret is written to the logs"),
    Mutant("wh-any-port-taken", CONFIG,
           "if port is not None and port not in WEBHOOK_PORTS:", "if False:",
           _CONFIG_TESTS, "a URL on a port Telegram never posts to starts a bot that gets nothing"),
]
