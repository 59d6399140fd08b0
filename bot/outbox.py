"""Mood cards out to a channel within Discord's rate limit: one sender per channel, merging under load.

Discord lets a bot post about five messages per five seconds in one channel. With one message per
answer, a burst of twenty voice messages in one channel takes twenty seconds to answer however fast the
models are, and the last person waits longest. So each channel has one sender, which paces itself
inside that limit: the first :data:`BURST` cards of a quiet spell go out at once, each as a reply to its
message; after that it sends at most one message per :data:`PACE_S`, and every card that arrived
meanwhile rides in the next one, up to Discord's ten embeds and ten files per message. A merged card
names the person and links to their message, since one message can reply to only one other. Under load
the channel sees fewer, fuller messages, no send is refused with a 429 (each costs a place in Discord's
invalid-request limit), and nobody's answer waits behind everybody else's.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass

import discord

log = logging.getLogger(__name__)

MAX_EMBEDS = 10  # Discord's limit per message
MAX_FILES = 10  # Discord's limit per message
MAX_EMBED_CHARS = 6000  # Discord's limit on all embeds of one message together
NO_MENTIONS = discord.AllowedMentions.none()
#: Discord's limit on a bot's messages in one channel, as its rate-limit headers report it (Discord
#: documents no numbers): LIMIT messages per WINDOW_S seconds.
LIMIT, WINDOW_S = 5, 5.0
BURST = 3  # sends allowed at once in a quiet window; the rest of the limit is kept for paced sends
PACE_S = WINDOW_S / LIMIT  # one message per this many seconds once the burst is spent


@dataclass
class _Card:
    """One answer waiting to be sent, and the future its sender resolves once it is out."""

    message: discord.Message
    embed: discord.Embed
    files: list[discord.File]
    reference: discord.MessageReference | None
    sent: asyncio.Future[None]


class Outbox:
    """Sends mood cards in reply to messages; see the module docstring for why one sender per channel."""

    def __init__(self) -> None:
        self._queues: dict[int, list[_Card]] = {}
        self._senders: dict[int, asyncio.Task[None]] = {}
        self._sent_at: dict[int, collections.deque[float]] = {}  # loop times of recent sends, per channel

    async def reply(
        self,
        message: discord.Message,
        embed: discord.Embed,
        files: list[discord.File],
        reference: discord.MessageReference | None,
    ) -> None:
        """Send ``embed`` (with ``files``) in answer to ``message``; returns once Discord has it.

        Raises
        ------
        discord.HTTPException
            Discord refused the message that carried this card.
        """
        channel_id = message.channel.id
        card = _Card(message, embed, files, reference, asyncio.get_running_loop().create_future())
        self._queues.setdefault(channel_id, []).append(card)
        sender = self._senders.get(channel_id)
        if sender is None or sender.done():
            self._senders[channel_id] = asyncio.create_task(
                self._send_all(message.channel), name=f"moodbot-outbox-{channel_id}"
            )
        await card.sent

    async def _send_all(self, channel: discord.abc.Messageable) -> None:
        """Send what the channel's queue holds, a batch per message, until it is empty."""
        channel_id: int = channel.id  # type: ignore[attr-defined]
        queue = self._queues[channel_id]
        while queue:
            await asyncio.sleep(self._wait_s(channel_id))  # cards arriving meanwhile join this batch
            batch = _take_batch(queue)
            try:
                await _send(channel, batch)
            except Exception as error:  # the cards' owners get the error; the next batch still goes
                for card in batch:
                    card.sent.set_exception(error)
            else:
                for card in batch:
                    card.sent.set_result(None)
        del self._queues[channel_id]

    def _wait_s(self, channel_id: int) -> float:
        """How long the next send waits: nothing in a quiet window, else until its paced turn."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        sent = self._sent_at.setdefault(channel_id, collections.deque())
        while sent and now - sent[0] >= WINDOW_S:
            sent.popleft()
        wait = 0.0 if len(sent) < BURST else max(0.0, sent[-1] + PACE_S - now)
        if len(sent) >= LIMIT - 1:  # never past the limit: wait for the oldest send to leave the window
            wait = max(wait, sent[-(LIMIT - 1)] + WINDOW_S - now)
        sent.append(now + wait)
        return wait


def _take_batch(queue: list[_Card]) -> list[_Card]:
    """The longest run from the front of ``queue`` that fits in one message (removed from it)."""
    batch: list[_Card] = []
    embeds_chars = files = 0
    while queue:
        card = queue[0]
        chars = len(card.embed) + 200  # the author line added when merging
        if batch and (
            len(batch) == MAX_EMBEDS
            or files + len(card.files) > MAX_FILES
            or embeds_chars + chars > MAX_EMBED_CHARS
        ):
            break
        batch.append(queue.pop(0))
        embeds_chars += chars
        files += len(card.files)
    return batch


async def _send(channel: discord.abc.Messageable, batch: list[_Card]) -> None:
    """One card as a reply to its message; several as one message, each card naming its message."""
    if len(batch) == 1:
        (card,) = batch
        await channel.send(
            embed=card.embed,
            files=card.files,
            reference=card.reference,  # type: ignore[arg-type]  # None is accepted: only the overloads say no
            mention_author=False,
            allowed_mentions=NO_MENTIONS,
        )
        return
    embeds, files = [], []
    for index, card in enumerate(batch):
        embed = card.embed.copy()
        embed.set_author(name=f"{card.message.author.display_name}'s clip", url=card.message.jump_url)
        for file in card.files:  # one message cannot carry two files of the same name
            old = f"attachment://{file.filename}"
            file.filename = f"{index}-{file.filename}"
            if embed.image.url == old:
                embed.set_image(url=f"attachment://{file.filename}")
        embeds.append(embed)
        files.extend(card.files)
    log.debug("Merged %d cards into one message in channel %s", len(batch), getattr(channel, "id", "?"))
    await channel.send(embeds=embeds, files=files, allowed_mentions=NO_MENTIONS)
