"""Everything the bot says, in English and Russian, chosen by the user's Telegram language."""

from __future__ import annotations

from telegram import User

from cosmobot.images.metadata import ImageMeta

ENGLISH, RUSSIAN = "en", "ru"
LANGUAGES = (ENGLISH, RUSSIAN)
# Telegram's most characters in a message's text, and in a photo's caption.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
# How much of what a user typed a reply repeats.
ECHO_LIMIT = 40
ELLIPSIS = "…"

TEXTS: dict[str, dict[str, str]] = {
    ENGLISH: {
        "start": (
            "Hello, {name}! I send pictures of the cosmos: nebulae, galaxies, planets "
            "and star clusters.\n\nTap the button below, or send /cosmic whenever you "
            "want another view of the sky."
        ),
        "help": (
            "/cosmic — a random cosmic image, with a button for the next one\n"
            "/cosmic nebula — an image whose title has these words\n"
            "/daily — a cosmic image every day at 09:00; /daily 07:30 Europe/Berlin picks "
            "the time and time zone (a name or an offset such as +3)\n"
            "/status — what this chat is subscribed to\n"
            "/stop — no more daily images\n"
            "/start — what this bot does\n"
            "/help — this message\n\n"
            "Every picture comes with its title and credit."
        ),
        "show_cosmos": "Show me the cosmos",
        "another": "Another one",
        "on_its_way": "Your image is on its way",
        "no_images": (
            "No images are installed yet. Whoever runs this bot can add some to its "
            "assets folder; please come back later."
        ),
        "try_again": "Telegram is not answering right now. Please try again in a minute.",
        "went_wrong": "Sorry, something went wrong on our side. Please try again.",
        "credit": "Image: {credit}",
        "command_cosmic": "A random cosmic image",
        "command_start": "What this bot does",
        "command_help": "How to use the bot",
        "command_daily": "A cosmic image every day",
        "command_status": "This chat's daily image",
        "command_stop": "No more daily images",
        "daily_subscribed": (
            "Subscribed: a cosmic image every day at {time} ({zone}). "
            "The next one comes on {date} at {next_time} ({zone})."
        ),
        "daily_status": (
            "This chat gets a cosmic image every day at {time} ({zone}). "
            "The next one comes on {date} at {next_time} ({zone})."
        ),
        "daily_not_subscribed": (
            "This chat has no daily image. Send /daily for one every day at 09:00 ({zone}), "
            "or /daily 07:30 Europe/Berlin to pick the time and time zone."
        ),
        "daily_usage": (
            "Please send the time as HH:MM, and a time zone if you like: "
            "for example /daily 08:30, /daily 08:30 Europe/Berlin or /daily 08:30 +3."
        ),
        "daily_stopped": "Done: no more daily images here. /daily subscribes again.",
        "admins_only": "Only this group's administrators can change its daily image.",
        "daily_set_aside": (
            "This chat's daily image is paused: its time ({time}) or time zone ({zone}) can no "
            "longer be read. Send /daily with the time and a time zone again, for example "
            "/daily 09:00 Europe/Berlin."
        ),
        "stats_title": "Cosmobot statistics",
        "stats_images": "Images",
        "stats_installed": "installed: {count}",
        "stats_cached": "with a valid cached file_id: {count} of {total}",
        "stats_sends": "Photos sent",
        "stats_file_id_sends": "by file_id: {since_start} since start, {total} in total",
        "stats_uploads": "uploaded: {since_start} since start, {total} in total",
        "stats_daily": "Daily image",
        "stats_subscribers": "subscribers: {active} active, {inactive} inactive",
        "stats_set_aside": "set aside (time or time zone unreadable): {count}",
        "stats_today": "today: {done} delivered, {due} due, {failed} failed tries",
        "stats_next_round": "next round: {at}",
        "no_match": "No image is called “{query}”. Try, for example: {titles}.",
        "inline_not_ready": "No images ready yet: open the bot",
        "inline_no_match": "Nothing found: open the bot",
    },
    RUSSIAN: {
        "start": (
            "Привет, {name}! Я присылаю снимки космоса: туманности, галактики, планеты "
            "и звёздные скопления.\n\nНажмите кнопку ниже или отправьте /cosmic, когда "
            "захочется ещё одного вида на небо."
        ),
        "help": (
            "/cosmic — случайное космическое изображение и кнопка для следующего\n"
            "/cosmic туманность — изображение, в названии которого есть эти слова\n"
            "/daily — космическое изображение каждый день в 09:00; /daily 07:30 Europe/Moscow "
            "задаёт время и часовой пояс (название или сдвиг вроде +3)\n"
            "/status — на что подписан этот чат\n"
            "/stop — больше не присылать ежедневное изображение\n"
            "/start — что умеет этот бот\n"
            "/help — это сообщение\n\n"
            "У каждой картинки есть название и автор."
        ),
        "show_cosmos": "Покажи космос",
        "another": "Ещё одно",
        "on_its_way": "Ваше изображение уже в пути",
        "no_images": (
            "Изображения ещё не установлены. Владелец бота может добавить их в папку "
            "с ресурсами; загляните позже."
        ),
        "try_again": "Telegram сейчас не отвечает. Попробуйте ещё раз через минуту.",
        "went_wrong": "Простите, у нас что-то пошло не так. Попробуйте ещё раз.",
        "credit": "Изображение: {credit}",
        "command_cosmic": "Случайное космическое изображение",
        "command_start": "Что умеет бот",
        "command_help": "Как пользоваться ботом",
        "command_daily": "Космическое изображение каждый день",
        "command_status": "Ежедневное изображение этого чата",
        "command_stop": "Больше не присылать ежедневно",
        "daily_subscribed": (
            "Готово: космическое изображение каждый день в {time} ({zone}). "
            "Следующее придёт {date} в {next_time} ({zone})."
        ),
        "daily_status": (
            "Этот чат получает космическое изображение каждый день в {time} ({zone}). "
            "Следующее придёт {date} в {next_time} ({zone})."
        ),
        "daily_not_subscribed": (
            "Этот чат не подписан. Отправьте /daily, чтобы получать изображение каждый день "
            "в 09:00 ({zone}), или /daily 07:30 Europe/Moscow, чтобы выбрать время и пояс."
        ),
        "daily_usage": (
            "Укажите время в виде ЧЧ:ММ и, если нужно, часовой пояс: "
            "например, /daily 08:30, /daily 08:30 Europe/Moscow или /daily 08:30 +3."
        ),
        "daily_stopped": "Готово: ежедневных изображений здесь больше не будет. "
                         "/daily подпишет снова.",
        "admins_only": "Менять ежедневное изображение группы могут только её администраторы.",
        "daily_set_aside": (
            "Ежедневное изображение этого чата приостановлено: его время ({time}) или часовой "
            "пояс ({zone}) больше не удаётся прочитать. Отправьте /daily с временем и часовым "
            "поясом ещё раз, например /daily 09:00 Europe/Moscow."
        ),
        "stats_title": "Статистика cosmobot",
        "stats_images": "Изображения",
        "stats_installed": "установлено: {count}",
        "stats_cached": "с действующим file_id в кэше: {count} из {total}",
        "stats_sends": "Отправлено фото",
        "stats_file_id_sends": "по file_id: {since_start} с запуска, {total} всего",
        "stats_uploads": "загрузкой: {since_start} с запуска, {total} всего",
        "stats_daily": "Ежедневное изображение",
        "stats_subscribers": "подписчики: {active} активных, {inactive} неактивных",
        "stats_set_aside": "отложены (время или часовой пояс не читается): {count}",
        "stats_today": "сегодня: {done} доставлено, {due} ожидают, {failed} неудачных попыток",
        "stats_next_round": "следующий обход: {at}",
        "no_match": "Изображения «{query}» нет. Попробуйте, например: {titles}.",
        "inline_not_ready": "Изображения ещё не готовы: откройте бота",
        "inline_no_match": "Ничего не нашлось: откройте бота",
    },
}


def language_of(user: User | None) -> str:
    """Pick the language for a user: Russian for `ru*` language codes, else English."""
    code = (user.language_code or "") if user else ""
    return RUSSIAN if code.lower().startswith(RUSSIAN) else ENGLISH


def text(language: str, key: str, **values: object) -> str:
    """Return the text for key in language, with values filled in, within a message's limit."""
    template = TEXTS.get(language, TEXTS[ENGLISH])[key]
    return shorten(template.format(**values), MESSAGE_LIMIT) if values else template


def caption(meta: ImageMeta, language: str) -> str:
    """Return an image caption: its title, then its credit, within Telegram's limit."""
    credit = text(language, "credit", credit=meta.credit) if meta.credit else ""
    # The credit is what a licence asks us to show, so a long title gives way, not the credit.
    credit = shorten(credit, CAPTION_LIMIT)
    room = CAPTION_LIMIT - telegram_length(credit) - (1 if credit else 0)
    title = shorten(meta.title(language), room)
    return "\n".join(part for part in (title, credit) if part)


def telegram_length(value: str) -> int:
    """Return the length of value in UTF-16 code units, as Telegram may count it."""
    # Whether Telegram counts characters or UTF-16 units, this count is never the smaller one.
    return len(value.encode("utf-16-le")) // 2


def shorten(value: str, limit: int) -> str:
    """Return value, or as much of its beginning as fits in limit, followed by "…"."""
    if telegram_length(value) <= limit:
        return value
    room, end = limit - len(ELLIPSIS), 0
    while end < len(value) and room >= telegram_length(value[end]):
        room -= telegram_length(value[end])
        end += 1
    return value[:end].rstrip() + ELLIPSIS if room >= 0 else ""
