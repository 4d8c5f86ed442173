"""Publication: public records at stable URLs under the configured base URL, their QR codes
(PNG and SVG), each village's hash chain and its verification after edits made directly in the
database; evidence stored with its SHA-256 (service methods on PostgreSQL and SQLite)."""
import base64
import hashlib
import io
import json

import png
import pytest
from sqlalchemy import delete, select, update

from affairs_walk import DAYS, Walk, ago, local, outbox
from services.affairs import qr
from services.affairs.models import Chain, PublishedRecord
from services.affairs.service import AffairsService
from shared import migrate
from shared.errors import InvalidInput, NotFound

BASE = "https://gongkai.example.org/huanghua"


@pytest.fixture
def affairs(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    return local(url, tmp_path / "evidence", publication={"base_url": BASE})


def published_village(affairs, matters=2):
    for _ in range(matters):
        Walk(affairs).through("implementation_published")
    return 12


def test_publications_have_stable_urls_and_public_content(affairs):
    walk = Walk(affairs)
    walk.through("resolution_published")
    [record] = walk.matter["publications"]
    assert record["url"] == f"{BASE}/villages/12/records/1" and record["seq"] == 1
    public = affairs.public_record(12, 1)
    assert public["content"]["title"] == "村内主街道硬化" and public["content"]["kind"] == "resolution"
    assert public["content"]["text"] == "决议公告" and public["content"]["channels"] == ["board", "qr_code"]
    assembly = next(s for s in public["content"]["steps"] if s["step"] == "villagers_assembly")
    assert (assembly["present"], assembly["for"], assembly["form"]) == (31, 27, "representatives_meeting")
    [event] = outbox(affairs, "matter_published")
    assert event["data"]["url"] == record["url"] and event["data"]["record_hash"] == record["record_hash"]
    assert event["data"]["occurred_on"] == ago(DAYS["resolution_published"])
    walk.step("execution")
    walk.finish_execution()
    walk.step("implementation_published")
    implementation = affairs.public_record(12, 2)
    assert implementation["kind"] == "implementation"
    assert [p["percent"] for p in implementation["content"]["progress"]] == [40, 100]
    assert implementation["prev_hash"] == record["record_hash"]
    with pytest.raises(NotFound):
        affairs.public_record(12, 3)


def _png_modules(data: bytes, box_size=8, border=4) -> list[list[bool]]:
    """The dark modules read back from the PNG's pixels (the centre of each box)."""
    width, _, rows, _ = png.Reader(file=io.BytesIO(data)).asRGB8()
    pixels = [list(row) for row in rows]
    modules = width // box_size - 2 * border

    def dark(x, y):
        row = pixels[(border + y) * box_size + box_size // 2]
        return row[((border + x) * box_size + box_size // 2) * 3] < 128

    return [[dark(x, y) for x in range(modules)] for y in range(modules)]


def test_the_qr_codes_open_the_public_url(affairs):
    Walk(affairs).through("resolution_published")
    png_code = affairs.qr_code(12, 1, "png")
    assert png_code["content_type"] == "image/png" and png_code["url"] == f"{BASE}/villages/12/records/1"
    data = base64.b64decode(png_code["data_base64"])
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert _png_modules(data) == qr.matrix(png_code["url"])
    svg = base64.b64decode(affairs.qr_code(12, 1, "svg")["data_base64"]).decode("utf-8")
    assert svg.startswith("<?xml") and "<svg" in svg and "<path" in svg
    with pytest.raises(InvalidInput) as refused:
        affairs.qr_code(12, 1, "gif")
    assert "image_format" in refused.value.errors


def test_the_chain_holds_and_names_the_record_edited_directly_in_the_database(affairs):
    published_village(affairs)
    Walk(affairs, branch_id=13).through("resolution_published")
    held = affairs.verify_chain(12)
    assert held["holds"] is True and held["records"] == 4 and held["broken_at"] is None
    with affairs.store.transaction() as session:
        content = session.scalar(select(PublishedRecord.content).where(
            PublishedRecord.branch_id == 12, PublishedRecord.seq == 2))
        session.execute(update(PublishedRecord).where(
            PublishedRecord.branch_id == 12, PublishedRecord.seq == 2)
            .values(content=content.replace("86000.00", "8600.00")))
    broken = affairs.verify_chain(12)
    assert broken["holds"] is False and broken["broken_at"] == 2
    assert "record 2 was changed after it was published" in broken["reason"]
    assert affairs.verify_chain(13)["holds"] is True


def test_the_chain_notices_a_rewritten_hash_and_a_removed_record(affairs):
    published_village(affairs)
    with affairs.store.transaction() as session:
        session.execute(update(PublishedRecord).where(PublishedRecord.seq == 1)
                        .values(record_hash="f" * 64))
    assert affairs.verify_chain(12)["broken_at"] == 1
    with affairs.store.transaction() as session:
        session.execute(update(PublishedRecord).where(PublishedRecord.seq == 1)
                        .values(record_hash=session.scalar(select(PublishedRecord.prev_hash).where(
                            PublishedRecord.seq == 2))))
    assert affairs.verify_chain(12)["holds"] is True
    with affairs.store.transaction() as session:
        session.execute(delete(PublishedRecord).where(PublishedRecord.seq == 4))
    gone = affairs.verify_chain(12)
    assert gone["holds"] is False and "4 records but 3 are stored" in gone["reason"]
    with affairs.store.transaction() as session:
        session.execute(update(Chain).values(length=3))
    assert "does not match the chain head" in affairs.verify_chain(12)["reason"]
    with pytest.raises(NotFound):
        affairs.verify_chain(404)


def test_evidence_is_stored_by_its_sha256_or_referenced_with_it(affairs, tmp_path):
    minutes = "两委联席会议记录：同意硬化主街道".encode("utf-8")
    walk = Walk(affairs, evidence=[{"kind": "minutes", "name": "提议会议记录.txt",
                                    "content_base64": base64.b64encode(minutes).decode(),
                                    "media_type": "text/plain"}])
    digest = hashlib.sha256(minutes).hexdigest()
    [stored] = walk.matter["evidence"]
    assert stored["sha256"] == digest and stored["size"] == len(minutes) and stored["stored"]
    assert (tmp_path / "evidence" / digest[:2] / digest).read_bytes() == minutes
    photo_hash = hashlib.sha256(b"photo").hexdigest()
    referenced = affairs.attach_evidence(walk.id, {"kind": "photo", "name": "现场照片",
                                                   "reference": "档案室 2026-017 号",
                                                   "sha256": photo_hash.upper(), "step": "proposal"})
    assert referenced["sha256"] == photo_hash and not referenced["stored"]
    assert referenced["step_id"] == walk.matter["steps"][0]["id"]
    back = affairs.get_evidence(stored["id"], True)
    assert back["intact"] is True and base64.b64decode(back["content_base64"]) == minutes
    (tmp_path / "evidence" / digest[:2] / digest).write_bytes(b"tampered")
    assert affairs.get_evidence(stored["id"])["intact"] is False
    walk.through("resolution_published")
    hashes = [e["sha256"] for e in affairs.public_record(12, 1)["content"]["evidence"]]
    assert hashes == [digest, photo_hash]

    bad = [({"kind": "minutes", "name": "x", "content_base64": "not base64!"}, "_evidence.content_base64"),
           ({"kind": "minutes", "name": "x", "content_base64": base64.b64encode(b"a").decode(),
             "sha256": "0" * 64}, "_evidence.sha256"),
           ({"kind": "minutes", "name": "x", "reference": "柜 3"}, "sha256"),
           ({"kind": "selfie", "name": "x", "reference": "柜 3", "sha256": photo_hash}, "_evidence.kind"),
           ({"kind": "minutes", "name": "x"}, "content_base64"),
           ({"kind": "minutes", "name": "x", "reference": "柜 3", "sha256": photo_hash,
             "step": "acceptance"}, "step")]
    for payload, field in bad:
        with pytest.raises(InvalidInput) as refused:
            affairs.attach_evidence(walk.id, payload)
        assert field in refused.value.errors, (payload, refused.value.errors)


def test_evidence_larger_than_the_configured_maximum_is_refused(db_url_factory, tmp_path):
    url = db_url_factory()
    migrate.upgrade(AffairsService, url)
    affairs = local(url, tmp_path, evidence={"max_bytes": 10})
    walk = Walk(affairs)
    with pytest.raises(InvalidInput) as refused:
        affairs.attach_evidence(walk.id, {"kind": "photo", "name": "big",
                                          "content_base64": base64.b64encode(b"x" * 11).decode()})
    assert "at most 10" in json.dumps(refused.value.errors, ensure_ascii=False)
