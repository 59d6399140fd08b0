"""The bot's own errors share one base, and keep the built-in bases older handlers catch."""

from pathlib import Path

from bot.errors import ConfigError, DevGuildError, FairShareError, MoodBotError, PoolBusyError, StoreError


def test_every_bot_error_is_a_moodbot_error_and_keeps_its_builtin_base():
    errors = [
        ConfigError("DISCORD_TOKEN is not set"),
        StoreError("locked", path=Path("x.sqlite3")),
        DevGuildError(1, "Missing Access"),
        PoolBusyError("busy"),
        FairShareError("your share"),
    ]
    assert all(isinstance(error, MoodBotError) for error in errors)
    assert isinstance(errors[0], ValueError) and isinstance(errors[1], RuntimeError)
    assert isinstance(errors[2], RuntimeError) and isinstance(errors[4], PoolBusyError)
