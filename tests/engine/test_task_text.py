"""The task text the engine stores and recalls with."""

from __future__ import annotations

from minima_grpc.engine.recommend import MAX_TASK_TEXT, task_text


def test_whitespace_is_collapsed() -> None:
    assert task_text("  Translate\n\tthis   please ") == "Translate this please"


def test_a_long_prompt_keeps_its_question_at_the_end() -> None:
    preamble = "Example question. Answer: A. " * 400
    prompt = preamble + "Which gas do plants absorb from the air?"
    kept = task_text(prompt)
    assert len(kept) == MAX_TASK_TEXT
    assert kept.startswith("Example question.")
    assert kept.endswith("Which gas do plants absorb from the air?")
