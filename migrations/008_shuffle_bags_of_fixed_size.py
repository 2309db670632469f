"""Peewee migrations -- 008_shuffle_bags_of_fixed_size.py.

Each chat's shuffle bag becomes one row of fixed size (shuffle_bags): where the chat is in a
shuffled order of its bot's image numbers (image_numbers), in place of a row per image it has
seen this round (seen_images, dropped).

Every chat keeps its progress, with every bot. Each bot's images named in seen_images are
numbered, in the order of their keys; each chat's bag starts a round whose first leg is those
numbers, and holds the images it has seen as shown ahead of its walk: none of them comes again
before that round ends, and the walk forgets them as it passes them. Images no chat has seen
are numbered when the bot first finds them, after these: a later leg of the same round.

Rollback: seen_images as 005 made it, with each chat's images seen this round, worked out from
its bag with a frozen copy of the shuffle (cosmobot.storage.shuffle as this migration knows
it), the image shown last inserted last; then the two tables are dropped.

Created with `pw_migrate create --auto --auto-source cosmobot.storage.models`, then reviewed:
the abstract BaseModel it picked up was removed, the database-side defaults it drops were
restored (the counts 0, `ahead` empty, updated_at and seen_at "now, in UTC", as in 003), and
the rows are carried over both ways.

The models are frozen here on purpose: migrations never import cosmobot.storage.models.
"""

import peewee as pw
from peewee_migrate import Migrator

# The shuffle as of this migration: cosmobot.storage.shuffle, frozen.
MASK64 = (1 << 64) - 1
ROUNDS = 8
# Bags read per batch in the rollback, and rows per INSERT (well under SQLite's limit on the
# values of one statement).
BATCH = 1000
INSERT_ROWS = 200


def is_postgres(database: pw.Database) -> bool:
    target = database.obj if isinstance(database, pw.DatabaseProxy) else database
    return isinstance(target, pw.PostgresqlDatabase)


def utc_now_default(database: pw.Database) -> pw.SQL:
    """The column default for "now, in UTC" on this database."""
    if is_postgres(database):
        return pw.SQL("DEFAULT (now() AT TIME ZONE 'utc')")
    return pw.SQL("DEFAULT CURRENT_TIMESTAMP")  # SQLite's is UTC already


def bags_from_seen_images(database: pw.Database) -> str:
    """One bag per bot and chat of seen_images: a round of every number, the seen ones ahead."""
    if is_postgres(database):
        seed, numbers = "floor(random() * 9007199254740991)::bigint", "string_agg(n.number::text, ',')"
    else:
        seed, numbers = "(random() & 9223372036854775807)", "group_concat(n.number, ',')"
    return f"""
        INSERT INTO shuffle_bags (bot_id, chat_id, seed, leg_start, leg_end, step, ahead,
                                  last_number, shown, version, updated_at)
        SELECT s.bot_id, s.chat_id, {seed}, 0,
               (SELECT COUNT(*) FROM image_numbers c WHERE c.bot_id = s.bot_id), 0,
               {numbers},
               (SELECT l.number FROM seen_images t
                JOIN image_numbers l ON l.bot_id = t.bot_id AND l.asset_key = t.asset_key
                WHERE t.bot_id = s.bot_id AND t.chat_id = s.chat_id ORDER BY t.id DESC LIMIT 1),
               COUNT(*), 1, MAX(s.seen_at)
        FROM seen_images s
        JOIN image_numbers n ON n.bot_id = s.bot_id AND n.asset_key = s.asset_key
        GROUP BY s.bot_id, s.chat_id"""


NUMBERS_FROM_SEEN_IMAGES = """
    INSERT INTO image_numbers (bot_id, asset_key, number)
    SELECT bot_id, asset_key, ROW_NUMBER() OVER (PARTITION BY bot_id ORDER BY asset_key) - 1
    FROM (SELECT DISTINCT bot_id, asset_key FROM seen_images) AS seen"""


def migrate(migrator: Migrator, database: pw.Database, *, fake=False):
    """Create image_numbers and shuffle_bags from seen_images, then drop seen_images."""

    @migrator.create_model
    class ImageNumber(pw.Model):
        id = pw.AutoField()
        bot_id = pw.BigIntegerField()
        asset_key = pw.CharField(max_length=255)
        number = pw.IntegerField()

        class Meta:
            table_name = "image_numbers"
            indexes = [(("bot_id", "asset_key"), True), (("bot_id", "number"), True)]

    zero = [pw.SQL("DEFAULT 0")]

    @migrator.create_model
    class ShuffleBag(pw.Model):
        id = pw.AutoField()
        bot_id = pw.BigIntegerField()
        chat_id = pw.BigIntegerField()
        seed = pw.BigIntegerField()
        leg_start = pw.IntegerField(default=0, constraints=zero)
        leg_end = pw.IntegerField(default=0, constraints=zero)
        step = pw.IntegerField(default=0, constraints=zero)
        ahead = pw.TextField(default="", constraints=[pw.SQL("DEFAULT ''")])
        last_number = pw.IntegerField(null=True)
        shown = pw.IntegerField(default=0, constraints=zero)
        version = pw.IntegerField(default=0, constraints=zero)
        updated_at = pw.DateTimeField(constraints=[utc_now_default(database)])

        class Meta:
            table_name = "shuffle_bags"
            indexes = [(("bot_id", "chat_id"), True)]

    migrator.sql(NUMBERS_FROM_SEEN_IMAGES)
    migrator.sql(bags_from_seen_images(database))
    migrator.remove_model("seen_images")


def rollback(migrator: Migrator, database: pw.Database, *, fake=False):
    """Make seen_images again from the bags, then drop shuffle_bags and image_numbers."""

    @migrator.create_model
    class SeenImage(pw.Model):
        id = pw.BigAutoField()
        chat_id = pw.BigIntegerField()
        asset_key = pw.CharField(max_length=255)
        seen_at = pw.DateTimeField(constraints=[utc_now_default(database)])
        bot_id = pw.BigIntegerField()

        class Meta:
            table_name = "seen_images"

    # Named as 005 named it, so that 005's rollback finds it (add_index would have the model
    # make one of its own first).
    migrator.sql("CREATE UNIQUE INDEX seen_images_bot_id_chat_id_asset_key "
                 "ON seen_images (bot_id, chat_id, asset_key)")
    migrator.run(seen_images_from_bags, database)
    migrator.remove_model("shuffle_bags")
    migrator.remove_model("image_numbers")


def seen_images_from_bags(database: pw.Database) -> None:
    """Insert the images each bag has seen this round into seen_images, the last one last."""
    keys = {}  # (bot, number) -> key
    for bot_id, key, number in database.execute_sql(
            "SELECT bot_id, asset_key, number FROM image_numbers"):
        keys[bot_id, number] = key
    query = ("SELECT id, bot_id, chat_id, seed, leg_start, leg_end, step, ahead, last_number, "
             "updated_at FROM shuffle_bags WHERE id > {} ORDER BY id LIMIT {}")
    last_id = 0
    while True:
        bags = database.execute_sql(query.format(last_id, BATCH)).fetchall()
        if not bags:
            return
        rows = [row for bag in bags for row in seen_rows(bag, keys)]
        row_marks = f"({', '.join([database.param] * 4)})"
        for start in range(0, len(rows), INSERT_ROWS):
            chunk = rows[start:start + INSERT_ROWS]
            database.execute_sql(
                "INSERT INTO seen_images (bot_id, chat_id, asset_key, seen_at) VALUES "
                + ", ".join([row_marks] * len(chunk)), [value for row in chunk for value in row])
        last_id = bags[-1][0]


def seen_rows(bag: tuple, keys: dict) -> list[tuple]:
    """The seen_images rows of one bag: its image shown last comes last."""
    _, bot_id, chat_id, seed, leg_start, leg_end, step, ahead, last, updated_at = bag
    seen = set(range(leg_start))
    if leg_end > leg_start:
        seen.update(leg_start + at for at in shuffled(seed, leg_start, leg_end - leg_start, step))
    seen.update(int(number) for number in ahead.split(",") if number)
    order = sorted(seen, key=lambda number: (number == last, number))
    return [(bot_id, chat_id, keys[bot_id, number], updated_at) for number in order
            if (bot_id, number) in keys]


def mix(value: int) -> int:
    value = (value + 0x9E3779B97F4A7C15) & MASK64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & MASK64
    return value ^ (value >> 31)


def shuffled(seed: int, salt: int, size: int, steps: int) -> list[int]:
    """The indexes at the first steps of the shuffle of range(size) that seed and salt choose."""
    half = max(1, ((size - 1).bit_length() + 1) // 2)
    mask = (1 << half) - 1
    key, round_keys = mix((seed & MASK64) ^ mix(salt & MASK64)), []
    for _ in range(ROUNDS):
        key = mix(key)
        round_keys.append(key)

    def forward(value: int) -> int:
        left, right = value >> half, value & mask
        for round_key in round_keys:
            left, right = right, left ^ (mix(right ^ round_key) & mask)
        return (left << half) | right

    indexes = []
    for step in range(steps):
        index = forward(step)
        while index >= size:
            index = forward(index)
        indexes.append(index)
    return indexes
