"""Turn an :class:`~emotion_core.recognizer.infer.EmotionResult` into what Discord shows: pure functions.

A reply should read at a glance: the mood with its emoji and confidence as the title, the runner-up
moods as text bars (they line up in a code block on every client), how much audio was heard, and for
longer clips a small chart of the mood over time. Nothing here talks to Discord or the models, so the
layout is tested without either. :func:`timeline_png` costs tens of milliseconds of CPU: call it on a
worker thread.
"""

from __future__ import annotations

import io
from itertools import pairwise
from typing import TYPE_CHECKING

import discord
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from emotion_core import EMOTIONS, Emotion

if TYPE_CHECKING:
    from emotion_core import EmotionResult

TIMELINE_FILENAME = "mood-timeline.png"
CHART_SIZE_IN = (4.0, 1.8)  # laid out for the ~400 px Discord shows an embed image at, 100 px an inch
CHART_DPI = 200  # twice that, for high-density screens: 800 x 360 px
CHART_FONT_PT = 9  # about 12 px on screen at 400 px wide
CHART_BACKGROUND = "#2b2d31"  # Discord's dark-theme embed background
CHART_TEXT = "#dbdee1"  # Discord's dark-theme body text
LEGEND_MIN_PROBABILITY = 0.03  # a mood that never reaches this is left out of the legend
#: Characters in a confidence bar.
BAR_WIDTH = 12
#: Runner-up moods listed under the winner.
RUNNERS_UP = 3
NO_SPEECH_EMOJI = "\N{SPEAKER WITH CANCELLATION STROKE}"

#: One colour per emotion, used by the embed's side stripe and the chart alike.
COLORS: dict[Emotion, int] = {
    Emotion.NEUTRAL: 0x99AAB5,
    Emotion.HAPPY: 0xF1C40F,
    Emotion.SAD: 0x3498DB,
    Emotion.ANGRY: 0xE74C3C,
    Emotion.FEARFUL: 0x9B59B6,
    Emotion.DISGUSTED: 0x2ECC71,
    Emotion.SURPRISED: 0xE67E22,
}
NO_SPEECH_COLOR = 0x4F545C


#: Left-aligned eighth blocks, one to seven eighths: a bar's last cell, so that 12 cells show
#: 96 steps and two moods 5 points apart never draw the same bar.
EIGHTHS = "\u258f\u258e\u258d\u258c\u258b\u258a\u2589"


def bar(probability: float, *, width: int = BAR_WIDTH) -> str:
    """A text bar such as ``█████▍░░░░░░`` for a probability in [0, 1], to an eighth of a cell."""
    eighths = round(min(max(probability, 0.0), 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    partial = EIGHTHS[part - 1] if part else ""
    return "\N{FULL BLOCK}" * full + partial + "\N{LIGHT SHADE}" * (width - full - len(partial))


def runners_up(result: EmotionResult, *, count: int = RUNNERS_UP) -> str:
    """The next ``count`` moods after the winner as aligned bars, e.g. ``sad      ███░░░  23%``."""
    ranked = result.ranked()[1 : count + 1]
    width = max((len(emotion.value) for emotion, _ in ranked), default=0)
    return "\n".join(
        f"{emotion.value:<{width}} {bar(probability)} {probability:>4.0%}" for emotion, probability in ranked
    )


def duration_text(result: EmotionResult) -> str:
    """How much audio was heard, saying so when only the beginning of a long clip was analysed."""
    if result.truncated and result.original_duration_s is None:
        return f"Analysed the first {result.duration_s:.0f} s of a longer clip"
    if result.truncated:
        return f"Analysed the first {result.duration_s:.0f} s of a {result.original_duration_s:.0f} s clip"
    return f"Analysed {result.duration_s:.1f} s of audio"


def wants_timeline(result: EmotionResult) -> bool:
    """Whether the clip has a mood over time worth a chart: the recogniser decides which clips are
    long enough for a timeline (its ``timeline.min_clip_s``), and a chart needs two points."""
    return not result.no_speech and len(result.timeline) >= 2


def headline(result: EmotionResult) -> tuple[str, str]:
    """Title and description of a reply: one mood when the evidence is clear, and an honest
    "not sure: sad or neutral" or "mixed" when it is not (see ``EmotionResult.verdict``)."""
    assert result.label is not None
    if result.verdict == "mixed":
        (first, p1), (second, p2) = result.ranked()[:2]
        moods = list(dict.fromkeys(point.label.value for point in result.timeline))
        return (
            f"\N{TWISTED RIGHTWARDS ARROWS} Mixed: {first.value} and {second.value}",
            f"no mood holds: {p1:.0%} and {p2:.0%} overall; it changes {' → '.join(moods)}",
        )
    if result.verdict == "not sure":
        (first, p1), (second, p2) = result.ranked()[:2]
        return (
            f"{first.emoji} Not sure: {first.value} or {second.value}",
            f"{p1:.0%} against {p2:.0%}: the clues are weak",
        )
    return f"{result.label.emoji} {result.label.value.capitalize()}", f"**{result.confidence:.0%}** confident"


def mood_embed(
    result: EmotionResult, *, timeline_attached: bool = False, note: str | None = None
) -> discord.Embed:
    """The reply card for one analysed clip.

    Parameters
    ----------
    result : EmotionResult
        What the recogniser heard.
    timeline_attached : bool
        Whether the reply carries :data:`TIMELINE_FILENAME`; the embed then shows it as its image.
    note : str, optional
        A line for the footer, e.g. that the clip was heard against the person's voice profile.
    """
    if result.no_speech or result.label is None:
        embed = discord.Embed(
            title=f"{NO_SPEECH_EMOJI} No speech found",
            description="I couldn't hear anyone speaking in this clip.",
            color=NO_SPEECH_COLOR,
        )
        embed.set_footer(text=duration_text(result))
        return embed
    title, description = headline(result)
    embed = discord.Embed(title=title, description=description, color=COLORS[result.label])
    others = runners_up(result)
    if others:
        embed.add_field(name="Runner-up moods", value=f"```\n{others}\n```", inline=False)
    embed.set_footer(text=" · ".join(filter(None, (duration_text(result), note))))
    if timeline_attached:
        embed.set_image(url=f"attachment://{TIMELINE_FILENAME}")
    return embed


def reaction_emoji(result: EmotionResult) -> str:
    """The single emoji a reaction-only reply adds to the message."""
    if result.no_speech or result.label is None:
        return NO_SPEECH_EMOJI
    return result.label.emoji


def legend_moods(result: EmotionResult) -> list[Emotion]:
    """The moods the legend lists: those reaching ``LEGEND_MIN_PROBABILITY``, top of the stack first."""
    peaks = {e: max(p.probabilities.get(e, 0.0) for p in result.timeline) for e in EMOTIONS}
    return [emotion for emotion in reversed(EMOTIONS) if peaks[emotion] >= LEGEND_MIN_PROBABILITY]


def timeline_png(result: EmotionResult) -> bytes:
    """A PNG of every mood's probability over time, stacked, one colour per mood, for Discord's dark theme.

    Discord shows an embed's image about 400 px wide, so the figure is laid out for that width (text of
    9 pt at 100 px an inch, so about 12 px on screen) and drawn at twice the resolution (800 x 360 px)
    for sharp high-density screens. The background is Discord's dark embed colour, the text its light
    grey. Each window's value is held over the whole window, so the chart fills the clip from end to
    end. The legend lists only the moods that show, top of the stack first, as the eye reads it.

    Uses matplotlib's object API on the Agg canvas, not pyplot, so it holds no global figure state and
    can run on any worker thread.
    """
    edges = [result.timeline[0].start_s, *[(a.end_s + b.start_s) / 2 for a, b in pairwise(result.timeline)]]
    edges.append(result.timeline[-1].end_s)
    times = [t for pair in pairwise(edges) for t in pair]  # each window's value from its start to its end
    stacks = [
        [point.probabilities.get(emotion, 0.0) for point in result.timeline for _ in range(2)]
        for emotion in EMOTIONS
    ]
    figure = Figure(figsize=CHART_SIZE_IN, dpi=CHART_DPI, facecolor=CHART_BACKGROUND)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.12, 0.22, 0.60, 0.72), facecolor=CHART_BACKGROUND)
    polygons = axes.stackplot(
        times,
        stacks,
        labels=[emotion.value for emotion in EMOTIONS],
        colors=[f"#{COLORS[emotion]:06x}" for emotion in EMOTIONS],
        linewidth=0,
    )
    axes.set_xlim(edges[0], edges[-1])
    axes.set_ylim(0.0, 1.0)
    axes.set_yticks([0.0, 0.5, 1.0], labels=["0", "50%", "100%"])
    axes.set_xlabel("seconds", labelpad=1)
    axes.tick_params(colors=CHART_TEXT, labelsize=CHART_FONT_PT, length=3)
    axes.xaxis.label.set(color=CHART_TEXT, fontsize=CHART_FONT_PT)
    for spine in axes.spines.values():
        spine.set_color(CHART_TEXT)
        spine.set_alpha(0.4)
    shown = legend_moods(result)
    legend = axes.legend(
        [polygons[EMOTIONS.index(emotion)] for emotion in shown],
        [emotion.value for emotion in shown],
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
        fontsize=CHART_FONT_PT,
        frameon=False,
        handlelength=1.0,
        borderaxespad=0.0,
    )
    for text in legend.get_texts():
        text.set_color(CHART_TEXT)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor=CHART_BACKGROUND)
    return buffer.getvalue()
