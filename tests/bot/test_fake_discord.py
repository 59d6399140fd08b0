"""The in-memory Discord checked against Discord's documented behaviour, through real discord.py calls.

The bot's tests are only as good as the fake under them: a fake that answers every follow-up as a new
message let ``/speak`` pass while it never posted a voice message (issue 10). Each test here drives
:class:`tests.helpers.fakes.FakeDiscord` with discord.py's own ``HTTPClient``, ``Interaction`` and webhook
objects, and cites the Discord documentation (discord/discord-api-docs) or issue it holds the fake to.
No models are loaded: the client is a plain ``discord.Client``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord.http import MultipartParameters, Route, handle_message_parameters
from discord.webhook.async_ import async_context

from tests.helpers import fakes
from tests.helpers.fakes import CHANNEL_ID, GUILD_ID, OTHER_CHANNEL_ID, TOKEN

OGG = b"OggS" + bytes(60)  # the fake checks the request, not the audio
COMMAND = {"id": "1", "name": "probe", "type": 1, "guild_id": str(GUILD_ID)}


@pytest.fixture
async def client(discord_api: fakes.FakeDiscord) -> AsyncIterator[discord.Client]:
    """A logged-in discord.py client in the test guild, its state watched by the fake."""
    client = discord.Client(intents=discord.Intents.default())
    await fakes.start_client(discord_api, client)
    yield client
    await client.close()


def interaction(client: discord.Client, ids, **kwargs: Any) -> discord.Interaction:
    """An interaction delivered now, as the gateway would deliver it."""
    payload = fakes.interaction_payload(next(ids), dict(COMMAND), **kwargs)
    api: fakes.FakeDiscord = client.http._HTTPClient__session
    return discord.Interaction(data=api.register_interaction(payload), state=client._connection)


def permissions(**changes: bool) -> discord.Permissions:
    """The bot's usual permissions with some changed."""
    granted = discord.Permissions(int(fakes.BOT_PERMISSIONS))
    granted.update(**changes)
    return granted


def voice_parameters(
    *,
    files: int = 1,
    content_type: str = "audio/ogg",
    metadata: bool = True,
    **extra: Any,
) -> MultipartParameters:
    """A voice-message upload as the bot builds one (flag 8192, ``duration_secs``, ``waveform``)."""
    described = []
    for index in range(files):
        entry: dict[str, Any] = {"id": index, "filename": "voice-message.ogg"}
        if metadata:
            entry |= {"duration_secs": 1.5, "waveform": base64.b64encode(bytes(range(0, 256, 8))).decode()}
        described.append(entry)
    payload = {"flags": 8192, "attachments": described, **extra}
    uploads = [discord.File(io.BytesIO(OGG), filename="voice-message.ogg") for _ in range(files)]
    multipart = [{"name": "payload_json", "value": json.dumps(payload)}]
    for index, upload in enumerate(uploads):
        part = {"name": f"files[{index}]", "value": upload.fp, "filename": upload.filename}
        multipart.append(part | {"content_type": content_type})
    return MultipartParameters(payload=None, multipart=multipart, files=uploads)


async def voice_followup(webhook: discord.Webhook, params: MultipartParameters) -> dict[str, Any]:
    """Execute the interaction webhook with a voice message, as ``bot.voice_message`` once did."""
    return await async_context.get().execute_webhook(
        webhook.id,
        webhook.token,
        session=webhook.session,
        payload=params.payload,
        multipart=params.multipart,
        files=params.files,
        wait=True,
    )


async def raw(api: fakes.FakeDiscord, method: str, path: str, body: Any = None) -> fakes._Response:
    """One request straight to the fake, bypassing discord.py's rate limiter (another process, say)."""
    data = None if body is None else json.dumps(body)
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with api.request(
        method, f"https://discord.com/api/v10{path}", data=data, headers=headers
    ) as response:
        return response


def text(content: str, **kwargs: Any) -> MultipartParameters:
    return handle_message_parameters(content=content, **kwargs)


# -- interaction lifecycle ----------------------------------------------------------------------------


async def test_the_first_followup_after_a_defer_edits_the_thinking_message(client, discord_api, ids):
    # "When using this endpoint directly after responding to an interaction with
    # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE, this endpoint will function as Edit Original Interaction
    # Response ... no new message will be created, and the loading message will be edited instead."
    # (developers/interactions/receiving-and-responding, Create Followup Message)
    probe = interaction(client, ids)
    callback = await probe.response.defer(thinking=True)
    thinking = discord_api.messages[callback.message_id]
    assert thinking.loading and thinking.content == ""

    first = await probe.followup.send("done", wait=True)
    second = await probe.followup.send("and more", wait=True)

    assert first.id == callback.message_id
    assert discord_api.messages[first.id].content == "done" and not discord_api.messages[first.id].loading
    assert second.id != first.id and discord_api.messages[second.id].content == "and more"
    assert discord_api.interactions[probe.id].followup_ids == [second.id]


async def test_the_first_followup_keeps_the_visibility_chosen_at_defer(client, discord_api, ids):
    # "The ephemeral flag will be ignored, and the value you provided in the initial defer response
    # will be preserved, as an existing message's ephemeral state cannot be changed." (same section)
    probe = interaction(client, ids)
    await probe.response.defer(thinking=True)
    first = await probe.followup.send("private?", ephemeral=True, wait=True)
    second = await probe.followup.send("private", ephemeral=True, wait=True)
    assert not discord_api.messages[first.id].ephemeral
    assert discord_api.messages[second.id].ephemeral


async def test_a_voice_message_as_the_first_followup_arrives_as_an_ordinary_file(client, discord_api, ids):
    # Edit Message: flags "(SUPPRESS_EMBEDS and IS_COMPONENTS_V2 only)"; "unsupported flag changes are
    # currently ignored without error" (developers/resources/message). discord-api-docs#7158: through
    # Edit Original Interaction Response "the IS_VOICE_MESSAGE is ignored from the message flags".
    probe = interaction(client, ids)
    await probe.response.defer(thinking=True)
    edited = await voice_followup(probe.followup, voice_parameters())
    later = await voice_followup(probe.followup, voice_parameters())

    stored = discord_api.messages[int(edited["id"])]
    assert stored.id == discord_api.interactions[probe.id].original_id
    assert not stored.voice and [a["filename"] for a in stored.attachments] == ["voice-message.ogg"]
    assert discord_api.messages[int(later["id"])].voice  # a new follow-up may be one


async def test_the_initial_response_must_come_within_3_s(client, discord_api, ids):
    # "you must send an initial response within 3 seconds of receiving the event. If the 3 second
    # deadline is exceeded, the token will be invalidated." (receiving-and-responding); 10062 Unknown
    # interaction, 50027 Invalid webhook token provided (developers/topics/opcodes-and-status-codes).
    probe = interaction(client, ids)
    discord_api.clock.advance(3.1)
    with pytest.raises(discord.NotFound) as late:
        await probe.response.defer(thinking=True)
    assert late.value.code == 10062
    with pytest.raises(discord.HTTPException) as invalid:
        await probe.followup.send("anyone there?")
    assert (invalid.value.status, invalid.value.code) == (401, 50027)


async def test_an_interaction_is_acknowledged_once(client, discord_api, ids):
    # 40060 "Interaction has already been acknowledged" (opcodes-and-status-codes). Two Interaction
    # objects for one event, as two handlers of the same event would have.
    payload = discord_api.register_interaction(fakes.interaction_payload(next(ids), dict(COMMAND)))
    first = discord.Interaction(data=payload, state=client._connection)
    second = discord.Interaction(data=payload, state=client._connection)
    await first.response.defer()
    with pytest.raises(discord.HTTPException) as twice:
        await second.response.send_message("me too")
    assert (twice.value.status, twice.value.code) == (400, 40060)


async def test_there_is_no_webhook_before_the_initial_response(client, ids):
    # discord.py#10461: a follow-up before the reply gets 404 Unknown Webhook (10015).
    probe = interaction(client, ids)
    with pytest.raises(discord.NotFound) as early:
        await probe.followup.send("too soon")
    assert early.value.code == 10015


async def test_the_token_lasts_15_minutes(client, discord_api, ids):
    # "Interaction tokens are valid for 15 minutes" (receiving-and-responding).
    probe = interaction(client, ids)
    await probe.response.defer(thinking=True)
    discord_api.clock.advance(14 * 60)
    await probe.followup.send("still here")
    discord_api.clock.advance(61)
    with pytest.raises(discord.HTTPException) as expired:
        await probe.edit_original_response(content="too late")
    assert (expired.value.status, expired.value.code) == (401, 50027)
    assert discord_api.invalid_requests == 1


async def test_the_original_response_can_be_read_edited_and_deleted(client, discord_api, ids):
    # GET/PATCH/DELETE /webhooks/{application.id}/{interaction.token}/messages/@original
    # (receiving-and-responding, Followup Messages).
    probe = interaction(client, ids)
    await probe.response.send_message("first draft")
    original = await probe.original_response()
    assert original.content == "first draft"

    await probe.edit_original_response(content="final")
    assert discord_api.messages[original.id].content == "final"
    await probe.delete_original_response()
    assert discord_api.messages[original.id].deleted
    with pytest.raises(discord.NotFound) as gone:
        await probe.followup.fetch_message(original.id)  # original_response() would answer from its cache
    assert gone.value.code == 10008


async def test_after_the_thinking_message_is_deleted_a_followup_is_a_new_message(client, discord_api, ids):
    # With the loading message gone there is nothing left to edit, so the follow-up is created anew
    # (what bot.exts.errors relies on to answer privately after a public defer).
    probe = interaction(client, ids)
    await probe.response.defer(thinking=True)
    await probe.delete_original_response()
    answer = await probe.followup.send("sorry", ephemeral=True, wait=True)
    assert answer.id != discord_api.interactions[probe.id].original_id
    assert discord_api.messages[answer.id].ephemeral


async def test_the_gateway_state_registers_its_interactions(client, discord_api, ids):
    payload = fakes.interaction_payload(next(ids), dict(COMMAND))
    client._connection.parse_interaction_create(payload)
    record = discord_api.interactions[int(payload["id"])]
    assert record.token == payload["token"] and record.response_type is None


# -- voice messages -----------------------------------------------------------------------------------


async def test_a_valid_voice_message_is_stored_as_one_and_served(client, discord_api):
    # "The attachment has additional fields: duration_secs and waveform" (developers/resources/message,
    # Voice Messages).
    created = await client.http.send_message(CHANNEL_ID, params=voice_parameters())
    stored = discord_api.messages[int(created["id"])]
    assert stored.voice and stored.content == ""
    (attachment,) = stored.attachments
    assert attachment["content_type"] == "audio/ogg" and attachment["duration_secs"] == 1.5
    assert await client.http.get_from_cdn(attachment["url"]) == OGG


@pytest.mark.parametrize(
    ("params", "code"),
    [
        (lambda: voice_parameters(content="hello"), 50159),
        (lambda: voice_parameters(embeds=[{"title": "x"}]), 50159),
        (lambda: voice_parameters(files=2), 50160),
        (lambda: voice_parameters(content_type="application/octet-stream"), 50160),
        (lambda: voice_parameters(metadata=False), 50161),
    ],
    ids=["content", "embed", "two-files", "not-audio", "no-metadata"],
)
async def test_an_invalid_voice_message_is_refused(client, discord_api, params, code):
    # "Only a single audio attachment is allowed. No content, stickers, etc..."; "The Content-Type of the
    # attachment must begin with audio/" (Voice Messages); codes 50159 "Voice messages do not support
    # additional content", 50160 "... must have a single audio attachment", 50161 "... must have
    # supporting metadata" (opcodes-and-status-codes).
    with pytest.raises(discord.HTTPException) as refused:
        await client.http.send_message(CHANNEL_ID, params=params())
    assert (refused.value.status, refused.value.code) == (400, code)
    assert discord_api.messages == {}


async def test_a_voice_message_cannot_be_edited(client, discord_api):
    # Voice messages "cannot be edited" (Voice Messages); 50162 "Voice messages cannot be edited."
    created = await client.http.send_message(CHANNEL_ID, params=voice_parameters())
    with pytest.raises(discord.HTTPException) as refused:
        await client.http.edit_message(CHANNEL_ID, int(created["id"]), params=text("words"))
    assert refused.value.code == 50162


async def test_a_voice_message_needs_send_voice_messages_but_not_attach_files(client, discord_api):
    # discord-api-docs#6082 (Discord staff): voice messages "do not require the Attach Files permission.
    # The gating is purely on the Send Voice Message permission."
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(attach_files=False))
    created = await client.http.send_message(CHANNEL_ID, params=voice_parameters())
    assert discord_api.messages[int(created["id"])].voice

    discord_api.set_bot_permissions(CHANNEL_ID, permissions(send_voice_messages=False))
    with pytest.raises(discord.Forbidden) as refused:
        await client.http.send_message(CHANNEL_ID, params=voice_parameters())
    assert refused.value.code == 50013


# -- rate limits --------------------------------------------------------------------------------------


async def test_rate_limits_are_off_unless_turned_on(discord_api):
    response = await raw(discord_api, "POST", f"/channels/{CHANNEL_ID}/messages", {"content": "hi"})
    assert response.status == 200 and "X-RateLimit-Limit" not in response.headers


async def test_a_spent_bucket_answers_429_with_discords_headers(discord_api):
    # Header names, the 429 body {"message", "retry_after", "global"} and Retry-After
    # (developers/topics/rate-limits, Header Format and Exceeding A Rate Limit).
    discord_api.rate_limits(per_channel=(2, 5.0))
    path = f"/channels/{CHANNEL_ID}/messages"
    ok = await raw(discord_api, "POST", path, {"content": "1"})
    assert ok.headers["X-RateLimit-Limit"] == "2" and ok.headers["X-RateLimit-Remaining"] == "1"
    assert 4.9 < float(ok.headers["X-RateLimit-Reset-After"]) <= 5.0
    assert abs(float(ok.headers["X-RateLimit-Reset"]) - (time.time() + 5.0)) < 1.0
    await raw(discord_api, "POST", path, {"content": "2"})

    limited = await raw(discord_api, "POST", path, {"content": "3"})
    body = json.loads(await limited.text())
    assert limited.status == 429
    assert body["message"] == "You are being rate limited." and body["global"] is False
    assert 0 < body["retry_after"] <= 5.0 and int(limited.headers["Retry-After"]) == 5
    assert limited.headers["X-RateLimit-Scope"] == "user" and limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Bucket"] == ok.headers["X-RateLimit-Bucket"]
    assert limited.headers["Via"]  # discord.py retries only a 429 that came through Discord's proxy
    # "per-route rate limits often account for top-level resources within the path" (rate-limits)
    other = await raw(discord_api, "POST", f"/channels/{OTHER_CHANNEL_ID}/messages", {"content": "4"})
    assert other.status == 200
    # "An invalid request is one that results in 401, 403, or 429 statuses." (Invalid Request Limit)
    assert discord_api.invalid_requests == 1


async def test_discord_py_waits_out_a_429_and_retries(client, discord_api):
    # "Your application should rely on the Retry-After header or retry_after field to determine when to
    # retry the request." (Exceeding A Rate Limit)
    discord_api.rate_limits(per_channel=(1, 0.3))
    await raw(discord_api, "POST", f"/channels/{CHANNEL_ID}/messages", {"content": "elsewhere"})
    started = time.monotonic()
    created = await client.http.send_message(CHANNEL_ID, params=text("mine"))
    assert time.monotonic() - started >= 0.2
    assert discord_api.messages[int(created["id"])].content == "mine"
    assert len(discord_api.sent("POST", f"/channels/{CHANNEL_ID}/messages")) == 3  # 200, 429, retry
    assert discord_api.invalid_requests == 1


async def test_discord_py_follows_the_headers_and_never_hits_the_limit(client, discord_api):
    # "your app should parse response headers to prevent hitting the limit" (rate-limits)
    discord_api.rate_limits(per_channel=(2, 0.3))
    for n in range(5):
        await client.http.send_message(CHANNEL_ID, params=text(str(n)))
    assert len(discord_api.sent("POST", f"/channels/{CHANNEL_ID}/messages")) == 5
    assert discord_api.invalid_requests == 0


async def test_reactions_have_their_own_bucket_per_channel(discord_api):
    discord_api.rate_limits()
    first = await raw(discord_api, "PUT", f"/channels/{CHANNEL_ID}/messages/1/reactions/%F0%9F%98%80/@me")
    second = await raw(discord_api, "PUT", f"/channels/{CHANNEL_ID}/messages/2/reactions/%F0%9F%98%80/@me")
    assert (first.status, second.status) == (204, 429)
    message = await raw(discord_api, "POST", f"/channels/{CHANNEL_ID}/messages", {"content": "hi"})
    assert message.status == 200


# -- permissions --------------------------------------------------------------------------------------


async def test_permissions_set_on_the_fake_reach_the_bots_view_of_the_channel(client, discord_api, ids):
    # Interaction "app_permissions": "computed permissions for a bot or app in the context of a specific
    # interaction (including any channel overwrites)" (change log, 2022-06-29).
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(attach_files=False))
    channel = client.get_channel(CHANNEL_ID)
    assert not channel.permissions_for(channel.guild.me).attach_files
    assert channel.permissions_for(channel.guild.me).send_messages
    assert not interaction(client, ids).app_permissions.attach_files
    assert client.get_channel(OTHER_CHANNEL_ID).permissions_for(channel.guild.me).attach_files


async def test_app_permissions_given_in_a_payload_become_the_bots_permissions(client, discord_api, ids):
    probe = interaction(client, ids, app_permissions=str(permissions(send_voice_messages=False).value))
    assert not probe.app_permissions.send_voice_messages
    assert not discord_api.permissions_in(CHANNEL_ID).send_voice_messages
    channel = client.get_channel(CHANNEL_ID)
    assert not channel.permissions_for(channel.guild.me).send_voice_messages


async def test_permissions_set_before_start_are_in_the_guild(discord_api):
    discord_api.set_bot_permissions(OTHER_CHANNEL_ID, permissions(read_message_history=False))
    late = discord.Client(intents=discord.Intents.default())
    await fakes.start_client(discord_api, late)
    try:
        channel = late.get_channel(OTHER_CHANNEL_ID)
        assert not channel.permissions_for(channel.guild.me).read_message_history
    finally:
        await late.close()


@pytest.mark.parametrize(
    ("missing", "code"), [("view_channel", 50001), ("send_messages", 50013)], ids=["view", "send"]
)
async def test_a_message_needs_view_channel_and_send_messages(client, discord_api, missing, code):
    # Create Message: "the current user must have the SEND_MESSAGES permission" (resources/message);
    # 50001 Missing access, 50013 You lack permissions (opcodes-and-status-codes).
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(**{missing: False}))
    with pytest.raises(discord.Forbidden) as refused:
        await client.http.send_message(CHANNEL_ID, params=text("hello"))
    assert refused.value.code == code
    assert discord_api.invalid_requests == 1


async def test_embeds_need_embed_links(client, discord_api):
    # discord-api-docs#2601: without Embed Links an embed-only message gets 403 Missing Permissions; with
    # content the message is sent and the embed not shown.
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(embed_links=False))
    embed = discord.Embed(title="Happy")
    with pytest.raises(discord.Forbidden):
        await client.http.send_message(CHANNEL_ID, params=handle_message_parameters(embed=embed))
    sent = await client.http.send_message(CHANNEL_ID, params=handle_message_parameters("and", embed=embed))
    assert discord_api.messages[int(sent["id"])].embeds == []


async def test_files_need_attach_files(client, discord_api):
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(attach_files=False))
    chart = discord.File(io.BytesIO(b"\x89PNG"), filename="chart.png")
    with pytest.raises(discord.Forbidden):
        await client.http.send_message(CHANNEL_ID, params=handle_message_parameters(file=chart))


async def test_a_reply_needs_read_message_history(client, discord_api, ids):
    # "When creating a message as a reply to another message, the current user must have the
    # READ_MESSAGE_HISTORY permission." (Create Message, Limitations)
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(read_message_history=False))
    reference = discord.MessageReference(
        message_id=next(ids), channel_id=CHANNEL_ID, fail_if_not_exists=False
    )
    with pytest.raises(discord.Forbidden):
        await client.http.send_message(
            CHANNEL_ID,
            params=handle_message_parameters("re", message_reference=reference.to_message_reference_dict()),
        )


@pytest.mark.parametrize("missing", ["add_reactions", "read_message_history"])
async def test_a_reaction_needs_add_reactions_and_read_message_history(client, discord_api, ids, missing):
    # Create Reaction "requires the READ_MESSAGE_HISTORY permission ... Additionally, if nobody else has
    # reacted to the message using this emoji, this endpoint requires the ADD_REACTIONS permission"
    # (resources/message).
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(**{missing: False}))
    with pytest.raises(discord.Forbidden):
        await client.http.add_reaction(CHANNEL_ID, next(ids), "\N{GRINNING FACE}")


async def test_interaction_answers_follow_the_bots_permissions_but_need_no_send_messages(
    client, discord_api, ids
):
    # Change log 2023-11-01: responses and follow-ups "follow a bot user's permissions"; app permissions
    # for responses are "ATTACH_FILES, EMBED_LINKS, MENTION_EVERYONE, and USE_EXTERNAL_EMOJIS"
    # (change log 2022-06-29) — Send Messages is not among them.
    discord_api.set_bot_permissions(CHANNEL_ID, permissions(send_messages=False, attach_files=False))
    probe = interaction(client, ids)
    await probe.response.defer(thinking=True)
    await probe.followup.send("words are fine")
    with pytest.raises(discord.Forbidden):
        await probe.followup.send(file=discord.File(io.BytesIO(OGG), filename="a.ogg"))


# -- deleted messages ---------------------------------------------------------------------------------


def user_message(client: discord.Client, ids, discord_api: fakes.FakeDiscord) -> tuple[int, str]:
    """A member's message with a hosted file, delivered through the gateway; its id and file URL."""
    attachment = fakes.attachment_payload(next(ids), "clip.ogg", size=len(OGG), content_type="audio/ogg")
    discord_api.host(attachment["url"], OGG)
    message_id = next(ids)
    client._connection.parse_message_create(fakes.message_payload(message_id, attachments=[attachment]))
    return message_id, attachment["url"]


def reply_to(message_id: int, *, fail_if_not_exists: bool) -> MultipartParameters:
    reference = discord.MessageReference(
        message_id=message_id, channel_id=CHANNEL_ID, fail_if_not_exists=fail_if_not_exists
    )
    return handle_message_parameters("a reply", message_reference=reference.to_message_reference_dict())


async def test_a_reply_to_a_deleted_message(client, discord_api, ids):
    # fail_if_not_exists: "whether to error if the referenced message doesn't exist instead of sending as
    # a normal (non-reply) message, default true" (resources/message, Message Reference Structure);
    # Discord's answer: 50035 "Invalid Form Body / In message_reference: Unknown message".
    message_id, _ = user_message(client, ids, discord_api)
    linked = await client.http.send_message(CHANNEL_ID, params=reply_to(message_id, fail_if_not_exists=True))
    assert linked["message_reference"]["message_id"] == str(message_id)

    discord_api.delete_message(CHANNEL_ID, message_id)
    plain = await client.http.send_message(CHANNEL_ID, params=reply_to(message_id, fail_if_not_exists=False))
    assert "message_reference" not in plain and plain["type"] == 0
    with pytest.raises(discord.HTTPException) as refused:
        await client.http.send_message(CHANNEL_ID, params=reply_to(message_id, fail_if_not_exists=True))
    assert refused.value.code == 50035 and "In message_reference: Unknown message" in str(refused.value)


async def test_a_deleted_messages_files_leave_the_cdn(client, discord_api, ids):
    message_id, url = user_message(client, ids, discord_api)
    assert await client.http.get_from_cdn(url) == OGG
    discord_api.delete_message(CHANNEL_ID, message_id)
    assert discord_api.messages[message_id].deleted
    with pytest.raises(discord.NotFound):
        await client.http.get_from_cdn(url)
    with pytest.raises(discord.NotFound) as unknown:
        await client.http.add_reaction(CHANNEL_ID, message_id, "\N{GRINNING FACE}")
    assert unknown.value.code == 10008


async def test_the_bot_hears_the_deletion(client, discord_api, ids):
    # Delete Message "Fires a Message Delete Gateway event" (resources/message).
    message_id, _ = user_message(client, ids, discord_api)
    heard = asyncio.create_task(client.wait_for("raw_message_delete", timeout=5))
    await asyncio.sleep(0)  # the waiter is listening
    discord_api.delete_message(CHANNEL_ID, message_id)
    assert (await heard).message_id == message_id


async def test_the_bot_may_edit_and_delete_its_own_messages(client, discord_api):
    created = await client.http.send_message(CHANNEL_ID, params=text("draft"))
    message_id = int(created["id"])
    await client.http.edit_message(CHANNEL_ID, message_id, params=text("final"))
    assert discord_api.messages[message_id].content == "final"
    await client.http.delete_message(CHANNEL_ID, message_id)
    assert discord_api.messages[message_id].deleted
    with pytest.raises(discord.NotFound):
        await client.http.request(
            Route(
                "PATCH",
                "/channels/{channel_id}/messages/{message_id}",
                channel_id=CHANNEL_ID,
                message_id=message_id,
            ),
            json={"content": "again"},
        )
