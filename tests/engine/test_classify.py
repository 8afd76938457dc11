"""Rule-based classification on real-looking prompts of every task type."""

from __future__ import annotations

import pytest

from minima_grpc.engine.classify import classify
from minima_grpc.engine.types import Difficulty, TaskType

T = TaskType

PROMPTS: list[tuple[str, TaskType]] = [
    # code
    ("Write a Python CSV parser.", T.CODE),
    ("Fix the failing unit tests in utils.py", T.CODE),
    ("Build me a landing page for my bakery with a contact form", T.CODE),
    ("Why does this throw a NullPointerException?\n```java\nString s = null;\n```", T.CODE),
    ("Translate this Python function to Rust", T.CODE),
    ("Write a SQL query that returns the top 5 customers by revenue last quarter.", T.CODE),
    ("Refactor this so it is readable: def f(x): return [i*2 for i in x if i>0]", T.CODE),
    # translation
    ("Translate 'good morning, how are you?' into French.", T.TRANSLATION),
    ("Please translate the following paragraph to German: Our quarterly results exceeded "
     "expectations thanks to strong demand in Europe.", T.TRANSLATION),
    ("How do you say 'where is the station' in Japanese? Translate it for me.", T.TRANSLATION),
    # summarization
    ("Summarize this incident report into 3 bullets.", T.SUMMARIZATION),
    ("Give me a TL;DR of the meeting notes below.\n\nAlice: we ship Friday. Bob: QA is late.",
     T.SUMMARIZATION),
    ("Condense this article into the key takeaways for an executive audience.", T.SUMMARIZATION),
    # extraction
    ("Extract all email addresses and phone numbers from this text and return them as JSON.",
     T.EXTRACTION),
    ("Pull out the invoice number, date and total amount from this invoice.", T.EXTRACTION),
    ("From the following resume, list all the programming languages the candidate knows.",
     T.EXTRACTION),
    # classification
    ("Classify the sentiment of this review as positive, negative or neutral: 'The food was cold.'",
     T.CLASSIFICATION),
    ("Is this email spam? Label it.", T.CLASSIFICATION),
    ("Categorize each support ticket into billing, technical or account.", T.CLASSIFICATION),
    # tool use
    ("Use the weather tool to look up the forecast for Paris tomorrow.", T.TOOL_USE),
    ("Call the search_flights function to find a flight from NYC to SFO next Monday.", T.TOOL_USE),
    ("Using the provided tools, book a table for two at 7pm and send an email to Sam.",
     T.TOOL_USE),
    # rag
    ("Based on the following context, answer the question.\nContext: The Eiffel Tower was "
     "completed in 1889.\nQuestion: When was it completed?", T.RAG),
    ("According to the document, what is the refund policy for damaged items?", T.RAG),
    ("Answer using the provided passages and cite your sources.", T.RAG),
    # creative
    ("Write a short poem about autumn leaves.", T.CREATIVE),
    ("Brainstorm ten catchy names for a coffee shop.", T.CREATIVE),
    ("Write a story for kids about a dragon who is afraid of the dark.", T.CREATIVE),
    # reasoning
    ("Prove that there are infinitely many primes.", T.REASONING),
    ("Solve the equation 3x + 5 = 20 step by step.", T.REASONING),
    ("What is the probability of rolling two sixes with two dice?", T.REASONING),
    ("A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. "
     "Reason through it: how much does the ball cost?", T.REASONING),
    # qa
    ("What is the capital of France?", T.QA),
    ("Who wrote Pride and Prejudice?", T.QA),
    ("Explain the difference between TCP and UDP.", T.QA),
    ("When did the Berlin Wall fall?", T.QA),
    # other
    ("hello there", T.OTHER),
    ("thanks, that's all for today", T.OTHER),
]  # fmt: skip


@pytest.mark.parametrize(("prompt", "expected"), PROMPTS)
def test_rules_classify_real_prompts(prompt: str, expected: TaskType) -> None:
    assert classify(prompt).task_type is expected


def test_every_task_type_is_exercised() -> None:
    assert {t for _, t in PROMPTS} == set(TaskType)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("What is the capital of France?", Difficulty.TRIVIAL),
        ("Translate 'good morning' into French.", Difficulty.TRIVIAL),
        ("Summarize this incident report into 3 bullets.", Difficulty.EASY),
        ("Write a Python CSV parser.", Difficulty.MEDIUM),
        ("Prove that there are infinitely many primes.", Difficulty.HARD),
        ("Implement a lock-free concurrent hash map in Rust with correct memory ordering.",
         Difficulty.EXPERT),
        ("Prove this olympiad inequality rigorously: for positive a, b, c with abc = 1, "
         "a/(b+c) + b/(c+a) + c/(a+b) >= 3/2.", Difficulty.EXPERT),
    ],
)  # fmt: skip
def test_difficulty_from_content(prompt: str, expected: Difficulty) -> None:
    assert classify(prompt).difficulty is expected


def test_caller_values_always_win() -> None:
    result = classify("What is the capital of France?", T.REASONING, Difficulty.EXPERT)
    assert (result.task_type, result.difficulty) == (T.REASONING, Difficulty.EXPERT)
    assert result.type_from_caller
    assert result.difficulty_from_caller
    assert not result.is_ambiguous(0.99)
    # Caller type only: difficulty is inferred for that type.
    assert classify("Write a Python CSV parser.", T.CODE).difficulty is Difficulty.MEDIUM


def test_confidence_separates_clear_and_ambiguous_prompts() -> None:
    clear = classify("Translate 'good morning, how are you?' into French.")
    vague = classify("hello there")
    assert clear.confidence > 0.8
    assert vague.is_ambiguous(0.6)
    assert not clear.is_ambiguous(0.6)


def test_long_prompts_are_scanned_quickly_and_deterministically() -> None:
    preamble = "Which statement is true?\nA) one\nB) two\nAnswer: A\n\n" * 400
    first = classify(preamble + "Write a Python function that reverses a list.")
    assert first == classify(preamble + "Write a Python function that reverses a list.")
