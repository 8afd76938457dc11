"""Deterministic task classification: weighted keyword rules, no model call.

Each task type has a few weighted cues; a cue counts once. The type with the
highest total wins (ties go to the type listed first in RULES); confidence is
the winner's share of the two best totals. Difficulty comes from the type's
base complexity plus cues for hard or trivial work and the prompt's length.
The caller's task_type and difficulty always win over the rules.

Speed matters (this runs on every request, on prompts of any length): the text
is tokenised once and most cues are set lookups; only a few structural cues
(code syntax, arithmetic, lists) are regular expressions. Long prompts are
scanned at their head and tail, where instructions live.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from minima_grpc.engine.types import Difficulty, TaskType

_HEAD = _TAIL = 800
_WORD_CHARS = set("+#-'_")
_SEPARATORS = str.maketrans({c: " " for c in string.punctuation if c not in _WORD_CHARS})


@dataclass(frozen=True, slots=True)
class _Text:
    # Framed by newlines: line starts and ends are "\n" in patterns, and a
    # pattern that begins with a literal lets the regex engine skip ahead fast.
    raw: str
    words: frozenset[str]
    # Tokens joined by single spaces, padded: phrase lookups are substring checks.
    joined: str
    word_count: int

    @classmethod
    def of(cls, text: str) -> _Text:
        if len(text) > _HEAD + _TAIL:
            text = text[:_HEAD] + "\n" + text[-_TAIL:]
        tokens = text.lower().translate(_SEPARATORS).split()
        return cls(f"\n{text}\n", frozenset(tokens), " " + " ".join(tokens) + " ", len(tokens))


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: frozenset[str]
    padded: str


@dataclass(frozen=True, slots=True)
class _Cue:
    weight: float
    words: frozenset[str] = frozenset()
    # Phrases indexed by their last word: only phrases whose last word occurs
    # in the text are searched for.
    phrases: Mapping[str, tuple[_Phrase, ...]] = field(default_factory=dict)
    phrase_keys: frozenset[str] = frozenset()
    # Both groups must appear somewhere in the text.
    near: tuple[frozenset[str], frozenset[str]] | None = None
    patterns: tuple[re.Pattern[str], ...] = ()

    def matches(self, text: _Text) -> bool:
        words = text.words
        if not self.words.isdisjoint(words):
            return True
        # (most texts hold no phrase's last word: a cheap test before the intersection)
        if not self.phrase_keys.isdisjoint(words):
            for key in self.phrase_keys & words:
                for phrase in self.phrases[key]:
                    if phrase.words <= words and phrase.padded in text.joined:
                        return True
        if self.near and not (self.near[0].isdisjoint(words) or self.near[1].isdisjoint(words)):
            return True
        return any(p.search(text.raw) for p in self.patterns) if self.patterns else False

    @property
    def needs(self) -> frozenset[str]:
        """Words a text must hold one of before the cue's words, phrases or
        near groups can match (its regexes need none). A phrase needs all its
        words: its longest stands for it, being the least common ("label",
        not "the")."""
        phrases = (p for found in self.phrases.values() for p in found)
        longest = {max(p.padded.split(), key=len) for p in phrases}
        return self.words | longest | (self.near[0] if self.near else frozenset())


def _cue(weight: float, *terms: str, regex: tuple[str, ...] = ()) -> _Cue:
    """Single words match tokens; multi-word terms match as phrases; each regex
    should start with a literal (see _Text)."""
    words = frozenset(t for t in terms if " " not in t)
    index: dict[str, list[_Phrase]] = {}
    for term in (t for t in terms if " " in t):
        parts = term.split()
        index.setdefault(parts[-1], []).append(_Phrase(frozenset(parts), f" {term} "))
    phrases = {key: tuple(found) for key, found in index.items()}
    patterns = tuple(re.compile(r, re.IGNORECASE) for r in regex)
    return _Cue(weight, words, phrases, frozenset(phrases), None, patterns)


def _near(weight: float, first: Iterable[str], second: Iterable[str]) -> _Cue:
    return _Cue(weight, near=(frozenset(first), frozenset(second)))


@dataclass(frozen=True, slots=True)
class _CueSet:
    """Cues scored together: one task type's, or one difficulty signal's.

    Most texts hold none of the words a set's word, phrase and near cues
    need; then only its regex cues are tried, and nothing else is looked at.
    """

    cues: tuple[_Cue, ...]
    needs: frozenset[str]
    regex_cues: tuple[_Cue, ...]

    def score(self, text: _Text) -> float:
        tried = self.regex_cues if self.needs.isdisjoint(text.words) else self.cues
        return sum(c.weight for c in tried if c.matches(text))


def _cues(*cues: _Cue) -> _CueSet:
    needs = frozenset().union(*(c.needs for c in cues if not c.patterns))
    return _CueSet(cues, needs, tuple(c for c in cues if c.patterns))


_PROGRAMMING_LANGS = (
    "python", "javascript", "typescript", "java", "kotlin", "swift", "rust", "golang", "c++",
    "c#", "ruby", "php", "scala", "haskell", "elixir", "perl", "bash", "powershell", "sql",
    "html", "css", "react", "vue", "django", "flask", "fastapi", "nodejs", "numpy", "pandas",
    "pytorch", "tensorflow", "terraform", "kubernetes", "docker",
)  # fmt: skip
_CODE_ARTIFACTS = (
    "function", "functions", "class", "method", "script", "program", "parser", "lexer",
    "compiler", "cli", "api", "endpoint", "module", "library", "package", "regex", "query",
    "dockerfile", "makefile", "website", "webapp", "component", "microservice", "backend",
    "frontend", "algorithm", "tests", "test",
)  # fmt: skip
_CODE_VERBS = (
    "write", "implement", "code", "create", "build", "make", "develop", "fix", "debug",
    "refactor", "optimize", "optimise", "review",
)  # fmt: skip
_NATURAL_LANGS = (
    "english", "french", "spanish", "german", "italian", "portuguese", "dutch", "swedish",
    "norwegian", "danish", "finnish", "polish", "czech", "russian", "ukrainian", "greek",
    "turkish", "arabic", "hebrew", "hindi", "bengali", "urdu", "chinese", "mandarin",
    "cantonese", "japanese", "korean", "vietnamese", "thai", "indonesian", "malay", "swahili",
    "latin",
)  # fmt: skip
# Arithmetic between two numbers: 3 + 4, 6 * 7, 8 / 2 ... (_ARITHMETIC finds it
# fast by starting at the operator; _SUM anchors a whole prompt).
_SUM = r"\d+\s*[-+*/^\u00d7\u00f7]\s*\d+"
# A numbered or bulleted list item, three in a row mark a structured request.
_LIST_ITEM = r"\n[ \t]*(?:\d+[.)]|[-*])\s.*"
_ARITHMETIC = r"[-+*/^\u00d7\u00f7](?:(?<=\d.)|(?<=\d\s.))\s*\d"

# Order matters only for ties: earlier types win.
RULES: dict[TaskType, _CueSet] = {
    TaskType.CODE: _cues(
        _cue(3.0, regex=("```", r"\n[ \t]*(?:def|class|import|function|const|fn|func|#include)\s")),
        _cue(1.5, *_PROGRAMMING_LANGS, "node js"),
        _cue(1.0, *_CODE_ARTIFACTS, "linked list", "hash map", "binary tree", "data structure",
             "unit tests", "landing page", "web app", "regular expression"),
        _near(2.0, _CODE_VERBS, (*_CODE_ARTIFACTS, "page", "app", "tests")),
        _cue(2.0, "traceback", "stacktrace", "segfault", "exception", "pytest", "npm", "repo",
             "repository", "codebase", "stack trace", "null pointer", "syntax error",
             "type error", "compile error", "compilation error", "failing test",
             "failing tests", "pull request", "pip install", "git commit", "git rebase"),
        _cue(2.0, regex=(r"\.(?:py|js|ts|tsx|jsx|go|rs|java|kt|cpp|rb|php|sql|sh|yaml|toml)\b",)),
        _near(3.0, ("translate", "port", "convert", "rewrite"), _PROGRAMMING_LANGS),
        _cue(1.5, regex=(r"\([^()\n]{0,80}\)\s*(?::|\{|=>|->)", r"_\w+\(", r";[ \t]*\n")),
    ),
    TaskType.TRANSLATION: _cues(
        _cue(3.0, "translate", "translates", "translated", "translation", "translating"),
        _cue(2.0, *(f"{prep} {lang}" for prep in ("into", "to") for lang in _NATURAL_LANGS)),
        _cue(1.0, "localize", "localise", "localization", "subtitle", "subtitles"),
    ),
    TaskType.SUMMARIZATION: _cues(
        _cue(3.0, "summarize", "summarise", "summarizes", "summarizing", "summarization",
             "summary", "tldr", "recap", "tl dr"),
        _cue(2.0, "condense", "shorten", "gist", "key points", "key takeaways", "main points",
             "boil down"),
        _cue(1.5, *(f"{prep} {n} {unit}" for prep in ("in", "into")
                    for n in ("1", "2", "3", "5", "one", "two", "three", "four", "five", "a few")
                    for unit in ("bullets", "bullet points", "sentences", "sentence", "lines"))),
        _cue(1.5, "executive summary", "abstract", "overview of"),
    ),
    TaskType.EXTRACTION: _cues(
        _cue(3.0, "extract", "scrape", "pull out"),
        _cue(1.5, "list all", "list every", "find all", "find every", "identify all",
             "identify every", "named entities", "key-value", "as json", "json object",
             "json schema", "structured data", "fields"),
        _near(2.0, ("parse",), ("from", "into")),
        _near(1.5, ("from",), ("invoice", "receipt", "resume", "cv", "email", "contract",
                               "form", "pdf")),
    ),
    TaskType.CLASSIFICATION: _cues(
        _cue(3.0, "classify", "classifies", "classification", "categorize", "categorise",
             "categorization", "category", "categories"),
        _cue(2.5, "sentiment", "spam", "toxic", "toxicity", "intent detection"),
        _cue(2.0, "label each", "label the", "label this", "label it", "tag each",
             "which category", "which class", "which label"),
        _near(2.0, ("positive", "negative"), ("neutral", "or")),
        _cue(1.0, "true or false", "yes or no"),
    ),
    TaskType.TOOL_USE: _cues(
        _near(3.0, ("use", "call", "invoke", "using"), ("tool", "tools")),
        _near(3.0, ("call", "invoke"), ("function", "api", "endpoint")),
        _cue(2.5, "agentic", "function calling", "function call", "tool call", "tool calls",
             "tool use", "api call", "api calls", "mcp server"),
        _cue(2.0, "search the web", "browse", "look up", "fetch the latest", "book a flight",
             "book a table", "send an email", "send email", "schedule a meeting"),
    ),
    TaskType.RAG: _cues(
        _near(3.0, ("following", "provided", "given", "above", "attached"),
              ("context", "document", "documents", "passage", "passages", "excerpt", "excerpts",
               "sources", "article")),
        _cue(3.0, "according to the"),
        _cue(2.5, regex=(r"\n[ \t]*(?:context|document|passage|sources?)[ \t]*:",)),
        _cue(2.0, "knowledge base", "cite your sources", "cite the sources", "with citations",
             "retrieved documents"),
    ),
    TaskType.CREATIVE: _cues(
        _near(3.0, ("write", "compose", "draft", "create"),
              ("story", "poem", "song", "lyrics", "haiku", "limerick", "sonnet", "novel",
               "screenplay", "joke", "fable", "slogan", "tagline", "toast", "speech")),
        _cue(2.0, "creative", "imagine", "fiction", "fictional", "brainstorm", "storytelling",
             "worldbuilding", "plot twist", "character arc"),
        _cue(1.5, "catchy", "witty", "whimsical", "marketing copy", "ad copy", "blog post",
             "product description"),
    ),
    TaskType.REASONING: _cues(
        _cue(3.0, "prove", "proof", "theorem", "lemma", "corollary", "derive", "derivation"),
        _near(2.5, ("solve", "calculate", "compute", "evaluate", "simplify"),
              ("equation", "integral", "derivative", "sum", "probability", "limit",
               "expression", "inequality")),
        _cue(2.0, "riddle", "deduce", "brainteaser", "step by step", "step-by-step",
             "reason through", "logic puzzle"),
        _cue(2.0, "probability", "combinatorics", "np-hard", "big-o", "invariant", "tradeoff",
             "trade-off", "trade-offs", "game theory", "time complexity"),
        _cue(2.5, "probability of", "odds of", "expected value", "how many ways"),
        _cue(1.0, "how many", regex=(_ARITHMETIC,)),
        _cue(1.0, "why does", "why is", "why are", "what would happen", "pros and cons",
             "compare and contrast"),
    ),
    TaskType.QA: _cues(
        _cue(1.0, regex=(r"\n[ \t]*(?:what|who|whom|whose|when|where|which|why|how|is|are|was"
                         r"|were|does|do|did|can|could|should|would|will)\b",)),
        _cue(0.5, regex=(r"\?[ \t]*\n",)),
        _cue(0.75, "explain", "define", "describe", "what is", "what are", "tell me about"),
    ),
}  # fmt: skip

# Base complexity per type, in difficulty steps (0 trivial ... 4 expert).
_TYPE_BASE: dict[TaskType, float] = {
    TaskType.CLASSIFICATION: 0.6,
    TaskType.TRANSLATION: 0.7,
    TaskType.EXTRACTION: 0.8,
    TaskType.SUMMARIZATION: 0.8,
    TaskType.QA: 1.1,
    TaskType.CREATIVE: 1.2,
    TaskType.RAG: 1.2,
    TaskType.TOOL_USE: 1.4,
    TaskType.OTHER: 1.2,
    TaskType.CODE: 1.6,
    TaskType.REASONING: 1.8,
}
# Long inputs are the job itself for these types, not a sign of difficulty.
_LENGTH_NEUTRAL = {TaskType.SUMMARIZATION, TaskType.RAG, TaskType.EXTRACTION, TaskType.TRANSLATION}

_HARD = _cues(
    _cue(0.7, "prove", "rigorous", "rigorously", "formally verify", "formal proof"),
    _cue(1.1, "lock-free", "lockfree", "wait-free", "atomics", "linearizable",
         "linearizability", "memory ordering"),
    _cue(0.5, "concurrent", "concurrency", "thread-safe", "race", "deadlock", "deadlocks",
         "parallel"),
    _cue(0.7, "distributed", "consensus", "raft", "paxos", "byzantine", "sharding",
         "multi-tenant", "exactly-once"),
    _cue(0.5, "optimize", "optimise", "performance-critical", "low-latency", "high-throughput",
         "scalable", "at scale"),
    _cue(0.5, "robust", "fault-tolerant", "production-ready", "migration", "edge case",
         "edge cases", "backward compatible", "backwards compatible"),
    _cue(0.7, "compiler", "interpreter", "kernel", "cryptography", "cryptographic",
         "garbage collector", "numerically stable", "numerical stability"),
    _cue(0.5, "architecture", "end-to-end", "multi-step", "from scratch", "system design",
         "tradeoffs", "trade-offs"),
    _cue(0.5, regex=(_LIST_ITEM * 3,)),
)  # fmt: skip
_EXPERT = _cues(
    _cue(1.2, "olympiad", "imo", "putnam", "research-level", "phd-level", "graduate-level",
         "open problem", "state of the art", "novel algorithm", "novel proof"),
)  # fmt: skip
_TRIVIAL = _cues(
    _cue(0.8, "spell", "one word", "single word", "yes or no", "true or false", "one sentence",
         "single sentence", "capital of"),
    _cue(1.0, regex=(r"^\n[ \t]*(?:what is|what's|calculate)\s+" + _SUM + r"\s*\??\s*$",)),
)  # fmt: skip
_EASY = _cues(_cue(0.4, "simple", "quick", "basic", "brief", "briefly", "short", "just", "small"))
_LEVELS = (
    Difficulty.TRIVIAL,
    Difficulty.EASY,
    Difficulty.MEDIUM,
    Difficulty.HARD,
    Difficulty.EXPERT,
)
_LEVEL_EDGES = (0.5, 1.3, 2.3, 3.1)  # complexity below edge i -> level i


@dataclass(frozen=True, slots=True)
class Classification:
    task_type: TaskType
    difficulty: Difficulty
    # Share of the top two rule totals held by the winner; 1.0 when the caller set the type.
    confidence: float
    type_from_caller: bool
    difficulty_from_caller: bool

    def is_ambiguous(self, threshold: float) -> bool:
        return not self.type_from_caller and self.confidence < threshold


def classify(
    text: str, task_type: TaskType | None = None, difficulty: Difficulty | None = None
) -> Classification:
    scanned = _Text.of(text)
    if task_type is None:
        chosen, confidence = _rule_type(scanned)
    else:
        chosen, confidence = task_type, 1.0
    level = difficulty if difficulty is not None else _difficulty(scanned, chosen)
    return Classification(
        task_type=chosen,
        difficulty=level,
        confidence=round(confidence, 4),
        type_from_caller=task_type is not None,
        difficulty_from_caller=difficulty is not None,
    )


def infer_difficulty(text: str, task_type: TaskType) -> Difficulty:
    return _difficulty(_Text.of(text), task_type)


def _rule_type(text: _Text) -> tuple[TaskType, float]:
    totals = [(t, cues.score(text)) for t, cues in RULES.items()]
    # Stable sort keeps RULES order among equal totals.
    totals.sort(key=lambda pair: -pair[1])
    (best, top), (_, second) = totals[0], totals[1]
    if top <= 0:
        return TaskType.OTHER, 0.3
    return best, top / (top + second + 0.5)


def _difficulty(text: _Text, task_type: TaskType) -> Difficulty:
    words = text.word_count
    complexity = _TYPE_BASE[task_type]
    if task_type not in _LENGTH_NEUTRAL:
        complexity += 0.5 if words > 80 else 0.0
        complexity += 0.5 if words > 250 else 0.0
    if words < 15 and task_type not in (TaskType.CODE, TaskType.REASONING):
        complexity -= 0.3
    complexity += min(2.0, _HARD.score(text))
    complexity += min(1.6, _EXPERT.score(text))
    complexity -= _TRIVIAL.score(text) + _EASY.score(text)
    for level, edge in zip(_LEVELS, _LEVEL_EDGES, strict=False):
        if complexity < edge:
            return level
    return Difficulty.EXPERT
