"""The hash chain of a village's public records (pure)."""
from services.affairs import chain


def records(n):
    rows, previous = [], chain.GENESIS
    for seq in range(1, n + 1):
        row = {"branch_id": 12, "seq": seq, "matter_id": seq, "kind": "resolution",
               "published_on": f"2026-03-{seq:02d}", "notice_days": 7,
               "path": f"villages/12/records/{seq}", "content": chain.canonical({"title": f"事项{seq}"})}
        row["prev_hash"], row["record_hash"] = previous, chain.record_hash(row, previous)
        previous = row["record_hash"]
        rows.append(row)
    return rows, previous


def test_an_untouched_chain_holds():
    rows, head = records(3)
    assert chain.verify(rows, 3, head) == chain.Verdict(True, 3, head)
    assert chain.verify([], 0, chain.GENESIS).holds


def test_any_field_changed_breaks_the_chain_at_that_record():
    for field, value in (("content", chain.canonical({"title": "改过"})), ("notice_days", 3),
                         ("published_on", "2026-04-01"), ("matter_id", 99), ("path", "x")):
        rows, head = records(3)
        rows[1][field] = value
        verdict = chain.verify(rows, 3, head)
        assert (verdict.holds, verdict.broken_at) == (False, 2), field


def test_a_rehashed_record_no_longer_links_to_the_next():
    rows, head = records(3)
    rows[1]["content"] = chain.canonical({"title": "改过"})
    rows[1]["record_hash"] = chain.record_hash(rows[1], rows[1]["prev_hash"])
    verdict = chain.verify(rows, 3, head)
    assert verdict.broken_at == 3 and "does not link to record 2" in verdict.reason


def test_removed_records_are_found():
    rows, head = records(3)
    assert chain.verify([rows[0], rows[2]], 3, head).broken_at == 2
    assert "3 records but 2" in chain.verify(rows[:2], 3, head).reason


def test_canonical_json_is_one_text_per_value():
    assert chain.canonical({"b": 1, "a": "村"}) == '{"a":"村","b":1}'
