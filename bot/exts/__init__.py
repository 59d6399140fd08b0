"""Bot extensions, one feature each; every module has ``async def setup(bot)`` for ``load_extension``."""
