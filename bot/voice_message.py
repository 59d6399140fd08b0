"""Send synthesised speech as a Discord voice message (the playable bubble with a waveform).

discord.py 2.7 can read voice messages but has no API to send one. The request is an ordinary message
upload with three extras that Discord requires: the message flag ``IS_VOICE_MESSAGE`` (8192), the
attachment's ``duration_secs`` and base64 ``waveform`` (at most 256 one-byte amplitudes), and the file
part's content type ``audio/ogg`` (Discord ignores duration and waveform otherwise). Such a message may
have no text. We build it with ``discord.http.handle_message_parameters``.

It goes out as a **new channel message** (``POST /channels/{id}/messages``, the bot's own request),
never as an interaction's first follow-up: after a deferred response, Discord treats that follow-up as
an edit of the "thinking" message, and an edit cannot carry the voice-message flag (Discord drops it).
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING, Any

import discord
from discord.http import HTTPClient, MultipartParameters, handle_message_parameters

from emotion_core import MAX_WAVEFORM_POINTS

if TYPE_CHECKING:
    from discord.types.message import Message as MessagePayload

VOICE_MESSAGE_FILENAME = "voice-message.ogg"


class VoiceMessageFile(discord.File):
    """An Ogg/Opus upload that describes itself as a voice message in the attachments payload."""

    def __init__(self, ogg: bytes, *, duration_s: float, waveform: bytes) -> None:
        if len(waveform) > MAX_WAVEFORM_POINTS:
            raise ValueError(f"a voice-message waveform has at most {MAX_WAVEFORM_POINTS} points")
        super().__init__(io.BytesIO(ogg), filename=VOICE_MESSAGE_FILENAME)
        self.duration_s = duration_s
        self.waveform = waveform

    def to_dict(self, index: int) -> dict[str, Any]:
        payload = super().to_dict(index)
        payload["duration_secs"] = round(self.duration_s, 2)
        payload["waveform"] = base64.b64encode(self.waveform).decode("ascii")
        return payload


def voice_message_parameters(ogg: bytes, *, duration_s: float, waveform: bytes) -> MultipartParameters:
    """The multipart request for a voice message: flag 8192, no content, no mentions, ``audio/ogg``."""
    params = handle_message_parameters(
        file=VoiceMessageFile(ogg, duration_s=duration_s, waveform=waveform),
        flags=discord.MessageFlags(voice=True),
        allowed_mentions=discord.AllowedMentions.none(),
    )
    for part in params.multipart or ():
        if part["name"].startswith("files["):
            part["content_type"] = "audio/ogg"
    return params


async def send_voice_message(
    http: HTTPClient, channel_id: int, ogg: bytes, *, duration_s: float, waveform: bytes
) -> MessagePayload:
    """Post a voice message in a channel; the created message's payload. Raises ``discord.HTTPException``.

    Parameters
    ----------
    http : discord.http.HTTPClient
        The bot's client (``bot.http``): its rate-limit handling applies.
    channel_id : int
        Where to post; the bot needs View Channel, Send Messages and Send Voice Messages (Discord's staff:
        not Attach Files).
    ogg : bytes
        Ogg/Opus audio at 48 kHz, as Discord's own clients record.
    duration_s : float
        Length of the audio in seconds, shown on the bubble.
    waveform : bytes
        Up to 256 amplitudes (0–255) drawn on the bubble.
    """
    with voice_message_parameters(ogg, duration_s=duration_s, waveform=waveform) as params:
        return await http.send_message(channel_id, params=params)
