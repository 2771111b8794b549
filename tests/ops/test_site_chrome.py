"""Site chrome learned by the flow: counted before cleaning while a site is new, while cleaning once it is established."""
from __future__ import annotations

from flows.chrome_learning import ESTABLISHED_SITE_DOCS
from flows.clean_news import clean_news
from flows.state import DOCUMENTS_KEY, SiteLineCounts
from flows.store import Store
from tests.conftest import read_table, write_corpus

# A short line no lexicon knows at the top of every page of one site (a masthead): only learning tells it is chrome.
SITE_LINE = "Gazette Weekender Corner Picks"


def _with_site_line(paths) -> None:
    for path in paths:
        path.write_text(f"{SITE_LINE}\n\n{path.read_text(encoding='utf-8')}", encoding="utf-8")


def _site_repeats(table) -> list[str]:
    return [line["line"] for chrome in table.column("chrome").to_pylist() for line in chrome
            if line["rule"] == "site_repeat"]


def _documents_counted(out, site: str) -> int:
    return SiteLineCounts.load(Store.open(str(out))).documents(site)


def test_a_sites_repeated_line_is_chrome_from_its_first_page_and_in_later_runs(prefect_harness, tmp_path):
    source, out = tmp_path / "in", tmp_path / "out"
    _with_site_line(write_corpus(source, 4, site="gazette"))
    first = clean_news(sources=[str(source)], out=str(out), workers=1)
    assert first["written"] == 4
    assert _site_repeats(read_table(out)) == [SITE_LINE] * 4  # the first page too: the batch was counted first
    assert _documents_counted(out, "gazette") == 4

    # Enough pages to make the site established: the next run cleans in one pass and still counts.
    _with_site_line(write_corpus(source, ESTABLISHED_SITE_DOCS, start=100, site="gazette"))
    clean_news(sources=[str(source)], out=str(out), workers=1)
    assert _documents_counted(out, "gazette") == 4 + ESTABLISHED_SITE_DOCS
    _with_site_line(write_corpus(source, 2, start=200, site="gazette"))
    last = clean_news(sources=[str(source)], out=str(out), workers=1)
    assert last["written"] == 2 and _documents_counted(out, "gazette") == 6 + ESTABLISHED_SITE_DOCS
    table = read_table(out)
    assert table.num_rows == 6 + ESTABLISHED_SITE_DOCS
    assert not any(SITE_LINE in body for body in table.column("body").to_pylist())
    assert _site_repeats(table) == [SITE_LINE] * table.num_rows


def test_site_line_counts_keep_a_sites_most_frequent_keys_only():
    from collections import Counter

    from flows.state import SITE_KEYS_KEPT, SiteLineCounts

    counts = SiteLineCounts()
    counts.add("big", Counter({DOCUMENTS_KEY: 7, "menu": 50, "share this": 40}))
    counts.add("big", Counter({f"one-off line {n}": 1 for n in range(2 * SITE_KEYS_KEPT)}))
    kept = counts.counts("big")
    assert len(kept) == SITE_KEYS_KEPT + 1  # the most frequent keys plus the document count
    assert kept["menu"] == 50 and kept["share this"] == 40 and counts.documents("big") == 7


def test_chrome_kept_up_to_date_equals_chrome_worked_out_from_the_counts():
    """SiteLineCounts keeps each hot site's chrome as counts are added, pruned, frozen and thawed; at every
    step it must equal site_chrome_keys of the counts themselves."""
    import random
    from collections import Counter

    from flows.state import SITE_KEYS_KEPT, SiteLineCounts
    from transforms.chrome import site_chrome_keys

    rng = random.Random(7)
    state = SiteLineCounts(idle_batches=1)
    for batch in range(40):
        sites = rng.sample(["a", "b", "c", "d"], 2)
        state.for_batch(sites, established_docs=3)
        for site in sites:
            keys = [f"line {rng.randrange(300)}" for _ in range(rng.randrange(1, 40))]
            if batch == 20:  # one site overflows: it keeps only its most frequent keys
                keys += [f"one-off {site} {n}" for n in range(2 * SITE_KEYS_KEPT)]
            state.add(site, Counter(keys) + Counter({DOCUMENTS_KEY: 1}))
            assert state.chrome(site) == site_chrome_keys(state.counts(site))
    for site in "abcd":
        assert state.chrome(site) == site_chrome_keys(state.counts(site))
