"""The heuristic quality filters that work offline, with the settings this recipe uses.

datatrove's GopherQualityFilter, C4QualityFilter and FineWebQualityFilter (FineWeb's recipe; DCLM starts
from similar rules before its fastText classifier). LanguageFilter and C4BadWordsFilter download models,
so they are left to the cluster pipelines (`cluster_filters`).

Derived choices for the tiny corpus (docstrings, licence paragraphs), marked here because they differ from
web-scale settings: documents are short, so Gopher's minimum is 20 words (not 50) and C4's minimum is
2 sentences (not 5); docstrings hold parameter lists, so FineWeb's short-line rule is relaxed (0.67 -> 0.9).
"""
from __future__ import annotations

from datatrove.pipeline.filters import C4QualityFilter, FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter


def web_filters(*, tiny: bool = False, exclusion_writer=None) -> list:
    """Gopher repetition + quality, C4 quality, FineWeb quality; `tiny` relaxes the length rules."""
    if tiny:
        return [
            GopherRepetitionFilter(),
            GopherQualityFilter(min_doc_words=20, max_non_alpha_words_ratio=0.6),
            C4QualityFilter(filter_no_terminal_punct=False, min_num_sentences=2, filter_curly_bracket=False,
                            filter_javascript=False),
            FineWebQualityFilter(short_line_thr=0.9, char_duplicates_ratio=0.1, new_line_ratio=0.5),
        ]
    return [GopherRepetitionFilter(), GopherQualityFilter(), C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter()]


def cluster_filters() -> list:
    """Filters that need downloaded models (fastText language id, bad-word lists): for cluster runs."""
    from datatrove.pipeline.filters import LanguageFilter, URLFilter

    return [URLFilter(), LanguageFilter(languages=["en"], language_threshold=0.65)]
