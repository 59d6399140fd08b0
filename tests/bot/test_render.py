"""The reply card and chart, from real recogniser results and hand-made ones for the edge cases."""

from __future__ import annotations

from bot import render
from emotion_core.labels import EMOTIONS, Emotion
from emotion_core.recognizer.infer import EmotionResult, TimelinePoint

PROBABILITIES = {
    Emotion.HAPPY: 0.62,
    Emotion.SURPRISED: 0.21,
    Emotion.NEUTRAL: 0.10,
    Emotion.SAD: 0.04,
    Emotion.ANGRY: 0.02,
    Emotion.FEARFUL: 0.01,
    Emotion.DISGUSTED: 0.0,
}


def result(duration_s: float = 12.0, *, truncated: bool = False, original_s: float | None = None):
    timeline = tuple(
        TimelinePoint(start, start + 3.0, Emotion.HAPPY, 0.6, PROBABILITIES)
        for start in range(0, int(duration_s) - 2, 2)
    )
    return EmotionResult(
        label=Emotion.HAPPY,
        confidence=0.62,
        probabilities=PROBABILITIES,
        timeline=timeline,
        no_speech=False,
        duration_s=duration_s,
        original_duration_s=original_s or duration_s,
        truncated=truncated,
    )


def test_bar_is_proportional_and_fixed_width():
    assert render.bar(0.0) == "\N{LIGHT SHADE}" * render.BAR_WIDTH
    assert render.bar(1.0) == "\N{FULL BLOCK}" * render.BAR_WIDTH
    assert render.bar(0.5).count("\N{FULL BLOCK}") == render.BAR_WIDTH // 2
    assert len(render.bar(1.7)) == render.BAR_WIDTH
    assert all(len(render.bar(p / 100)) == render.BAR_WIDTH for p in range(101))


def test_bars_five_points_apart_never_look_the_same():
    bars = [render.bar(p / 100) for p in range(101)]
    assert all(bars[p] != bars[p + 5] for p in range(96))
    assert render.bar(0.14) != render.bar(0.19)


def test_embed_reads_at_a_glance():
    embed = render.mood_embed(result(), timeline_attached=True)
    assert embed.title == "\N{SMILING FACE WITH SMILING EYES} Happy"
    assert embed.description == "**62%** confident"
    assert embed.color.value == render.COLORS[Emotion.HAPPY]
    lines = embed.fields[0].value.strip("`\n").splitlines()
    assert [line.split()[0] for line in lines] == ["surprised", "neutral", "sad"]
    assert lines[0].endswith("21%")
    assert embed.footer.text == "Analysed 12.0 s of audio"
    assert embed.image.url == "attachment://mood-timeline.png"


def test_truncated_clip_says_only_the_start_was_heard():
    embed = render.mood_embed(result(60.0, truncated=True, original_s=95.0))
    assert embed.footer.text == "Analysed the first 60 s of a 95 s clip"
    assert embed.image.url is None


def test_no_speech():
    silent = EmotionResult(None, 0.0, {}, (), True, 3.0, 3.0)
    embed = render.mood_embed(silent)
    assert "No speech found" in embed.title and not embed.fields
    assert render.reaction_emoji(silent) == render.NO_SPEECH_EMOJI
    assert not render.wants_timeline(silent)


def test_timeline_only_for_longer_clips():
    assert render.wants_timeline(result(12.0))
    assert not render.wants_timeline(result(3.0))


def test_timeline_png_from_a_real_result(recognizer, clips):
    real = recognizer.analyze(clips("ogg-opus", duration_s=8.0))
    assert render.wants_timeline(real)
    png = render.timeline_png(real)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 360)  # 2x the ~400 px Discord shows it at


def test_timeline_is_made_for_the_dark_theme_and_fills_the_clip(recognizer, clips):
    import io

    from matplotlib.image import imread

    real = recognizer.analyze(clips("ogg-opus", duration_s=8.0))
    pixels = (imread(io.BytesIO(render.timeline_png(real)))[..., :3] * 255).round().astype(int)
    background = [int(render.CHART_BACKGROUND[i : i + 2], 16) for i in (1, 3, 5)]
    assert pixels[0, 0].tolist() == background and pixels[-1, -1].tolist() == background
    height, width = pixels.shape[:2]
    middle = height * (1 - (0.22 + 0.72 / 2))
    for x in (0.12 + 0.004, 0.72 - 0.004):  # just inside the plot's left and right edges
        assert pixels[round(middle), round(x * width)].tolist() != background


def test_legend_lists_the_moods_that_show_top_of_the_stack_first():
    from dataclasses import replace

    points = (TimelinePoint(0.0, 3.0, Emotion.HAPPY, 0.6, {Emotion.NEUTRAL: 0.3, Emotion.HAPPY: 0.68,
              Emotion.SURPRISED: 0.02}),)  # fmt: skip
    assert render.legend_moods(replace(result(), timeline=points)) == [Emotion.HAPPY, Emotion.NEUTRAL]
    every = render.legend_moods(result())
    assert every == sorted(every, key=EMOTIONS.index, reverse=True)


def test_weak_evidence_is_headlined_not_sure_with_both_moods():
    from dataclasses import replace

    embed = render.mood_embed(replace(result(), verdict="not sure"))
    assert embed.title.endswith("Not sure: happy or surprised")
    assert "62% against 21%" in embed.description
    assert "confident" not in embed.description


def test_a_mood_that_keeps_changing_is_headlined_mixed():
    from dataclasses import replace

    swings = tuple(
        TimelinePoint(float(i), i + 3.0, label, 0.5, PROBABILITIES)
        for i, label in enumerate([Emotion.HAPPY, Emotion.SAD, Emotion.HAPPY, Emotion.ANGRY])
    )
    embed = render.mood_embed(replace(result(), timeline=swings, verdict="mixed"))
    assert embed.title.endswith("Mixed: happy and surprised")  # the leading two over the whole clip
    assert embed.description == "no mood holds: 62% and 21% overall; it changes happy → sad → angry"
