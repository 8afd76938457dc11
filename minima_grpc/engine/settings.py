"""The engine's tunable knobs, in one place so evaluation can tune them by
measurement (minima eval) instead of by editing code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EngineSettings:
    # Prediction: Beta-style blend of the catalog prior with recalled evidence.
    # The prior counts as `pseudocount` observations.
    pseudocount: float = 4.0
    # A model without a catalog prior starts from the pooled success of every
    # model's neighbours once they weigh this much (engine/predict.py).
    pooled_prior_min_weight: float = 2.0

    # Threshold and pick from the 0-10 slider (engine/select.py). tau_min is
    # the acceptable floor; lambda = price_sensitivity_max * (1 - slider/10) **
    # price_sensitivity_shape is the predicted success worth paying e times
    # more for (0 at slider 10). 0.35 and 3 from `python -m bench
    # routing-quality`: they spread RouterBench's cost-quality curve over the
    # whole slider, and at 5 a 10x pricier model must be ~0.1 more likely to succeed.
    tau_min: float = 0.55
    price_sensitivity_max: float = 0.35
    price_sensitivity_shape: float = 3.0
    default_tradeoff: float = 5.0

    # Neighbour weight = kernel(similarity) * reliability * age decay * source.
    # kernel(s) = (s / best) ** power, best being the closest neighbour of this
    # recall, and 0 at or below the absolute floor (unrelated texts). 1.5: with
    # the embedded embedder an unrelated prompt scores about half the best
    # match, and a linear kernel lets it outvote the related ones (1.25 and
    # below fail tests/engine/test_learning.py: eight successes on similar
    # tasks lower the prediction); squared wastes the wider neighbourhood
    # below (128 per model, power 2: AIQ 0.810 on `minima eval --paths 3`).
    similarity_floor: float = 0.05
    similarity_power: float = 1.5
    # reliability = floor + (1 - floor) * knowledge_confidence
    reliability_floor: float = 0.3
    age_half_life_days: float = 90.0
    age_weight_floor: float = 0.2
    stale_weight: float = 0.5
    # Outcomes seeded from datasets count less than the caller's own feedback.
    seed_weight: float = 0.8

    # Recall: up to per_model_k neighbours for each candidate (no crowding out).
    # 128: the more evidence per model, the less a pick between two close
    # models is a coin flip. `minima eval --paths 3` (mean AIQ of three
    # learning histories; one history alone swings by +-0.03): 32 per model
    # (power 2, max weight 8) 0.801; 64 (2, 16) 0.816; 128 (1, 32) 0.838;
    # 256 (1, 32) 0.826; these defaults 0.837. The embedded memory answers
    # 3,328 neighbours (26 models) in ~2.4 ms at 10k outcomes (`python -m bench
    # engine`); 64 per model measured 0.831 over six paths, these 0.835.
    recall_per_model_k: int = 128
    # Of those, the heaviest few per model back evidence refs and feedback credit.
    kept_neighbours_per_model: int = 16
    recall_k: int = 64
    recall_timeout_ms: int = 250

    # Cost: observed/rescaled tiers need this many realized samples per model.
    observed_min_samples: int = 3
    # With require_prompt_caching, the share of input tokens read from cache.
    cached_input_share: float = 0.9

    # Exploration (engine/explore.py): in this share of requests, candidates
    # whose evidence weighs less than exploration_max_weight get a Thompson draw.
    # On by default (MINIMA_EXPLORATION): without it a catalog with neutral
    # priors (a user's own models) locks onto the first model above the bar and
    # never learns what the others can do. A model stays "thin" until its
    # evidence weighs 32 (~50 close neighbours): a lower limit ends exploring
    # while two close models are still told apart by a handful of outcomes.
    # On RouterBench (`minima eval --paths 3`, 128 per model, power 1): max
    # weight 16 0.829, 32 0.838, 64 0.829; at 32 per model, 8 0.801 and 16
    # 0.825; share 0.4 0.803, draws for every candidate 0.814.
    exploration: bool = True
    exploration_share: float = 0.25
    exploration_max_weight: float = 32.0
    # Draws come from Beta(WS + k * prior, W - WS + k * (1 - prior)) with this
    # k: lower than the prediction's pseudocount, so an untried model's draw
    # spreads wide enough to be tried at all - a premium model must draw far
    # above its prior to be worth its price at mid-slider. `minima eval --paths
    # 3`, two sets of namespaces (6 learning histories): k = 1 0.835 (worst
    # history 0.829); k = 2 0.821 (worst 0.803); k = 0.5 0.829 (3 histories).
    exploration_pseudocount: float = 1.0
    # The share is scaled by how much of the lane's last ~window recommendations
    # got feedback (engine/feedback_flow.py): no outcomes back, no exploring.
    exploration_feedback_window: int = 100

    # Candidates returned in `ranked` when the caller sets no max_candidates.
    default_max_candidates: int = 8
    # A fallback must beat the pick's predicted success by at least this much.
    fallback_min_gain: float = 0.03

    # Escalation criteria.
    thin_evidence_weight: float = 1.5
    thin_evidence_models: int = 2
    low_confidence: float = 0.45
    tie_delta: float = 0.02
    conflict_low: float = 0.35
    conflict_high: float = 0.65
    conflict_min_weight: float = 2.0
    # Classification confidence below this lets the reasoner refine the type.
    ambiguous_classification: float = 0.6

    # Reasoner: its opinion moves a prediction by at most this share, scaled
    # down by how much evidence the prediction already rests on.
    reasoner_blend: float = 0.5
    reasoner_timeout_ms: int = 4000
    reasoner_max_candidates: int = 8

    # Learning loop.
    reflect_every: int = 25
    lesson_min_quality: float = 0.8
    # A neighbour agrees with an outcome when their qualities differ by at most this.
    agreement_band: float = 0.3
    evidence_refs_per_model: int = 5
