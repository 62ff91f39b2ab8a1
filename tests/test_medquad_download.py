"""`symptom-bot ingest --medquad`: the published archive from a loopback server, resumed after
a cut, restarted when Range is ignored, refused when unsafe, then ingested and searchable."""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import stat
import zipfile

import pytest
from click.testing import CliRunner

import bot.cli
import bot.ingest
from bot import download
from bot.index_store import IndexRoot
from bot.knowledge_base import KnowledgeBase, status
from bot.medquad import MARKER, PART, MedquadError, Refused, fetch_medquad, members
from bot.retrieval import Retriever
from bot.settings import get_settings
from tests.conftest import MEDQUAD
from tests.fakes.embedder import FakeEmbedder
from tests.fakes.file_server import FileServer

SAMPLE = MEDQUAD / "xml-sample"
TOP = "MedQuAD-577bd37b96c02d1833b2c9eed2de9f96964e96cb"


def archive(extra: dict[str, bytes] | None = None, top: str = TOP) -> bytes:
    """A zip laid out like GitHub's archive of the repository, with the sample XML files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{top}/", b"")
        zf.writestr(f"{top}/readme.txt", b"MedQuAD readme: not a corpus file")
        zf.writestr(f"{top}/QA-TestSet-LiveQA-Med-Qrels-2479-Answers.zip",
                    b"PK\x05\x06" + bytes(18))
        zf.writestr(f"{top}/1_CancerGov_QA/notes.txt", b"Hello doctor, not MedQuAD XML")
        for path in sorted(SAMPLE.rglob("*.xml")):
            zf.writestr(f"{top}/{path.relative_to(SAMPLE).as_posix()}", path.read_bytes())
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def expected_ids() -> set[str]:
    """The ids the shared JSONL gives the pairs of the sample files (an independent source)."""
    docs = {p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*.xml")}
    ids = set()
    for name in ("medquad.jsonl", "medquad-noanswer.jsonl"):
        with open(MEDQUAD / name, encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                if row["doc"] in docs:
                    ids.add(row["id"])
    assert len(ids) > 20
    return ids


@pytest.fixture
def cli(monkeypatch, tmp_path, knowledge_dir):
    """Runs `symptom-bot ...` in-process with the fake embedder; returns (exit code, out, err)."""
    monkeypatch.setenv("KNOWLEDGE_DIR", str(knowledge_dir))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LOG_LEVEL", "INFO")
    monkeypatch.setattr(bot.ingest, "make_embedder", lambda settings: FakeEmbedder())
    root = logging.getLogger()
    saved = root.level, list(root.handlers)

    def run(*args: str, url: str | None = None, **env: str) -> tuple[int, str, str]:
        if url:
            monkeypatch.setenv("MEDQUAD_URL", url)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        result = CliRunner().invoke(bot.cli.main, list(args))
        root.handlers[:] = saved[1]  # the CLI's log handler wrote to the runner's stderr
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            result.exception
        return result.exit_code, result.stdout, result.stderr

    yield run
    get_settings.cache_clear()
    root.handlers[:] = saved[1]
    root.setLevel(saved[0])


def test_download_unpacks_the_xml_and_ingests_it(cli, settings, knowledge_dir, expected_ids):
    body = archive()
    with FileServer(body) as server:
        code, out, err = cli("ingest", "--medquad", "--json",
                             url=server.url.replace("/file.zip", "/redirect"),
                             MEDQUAD_SHA256=hashlib.sha256(body).hexdigest().upper())
        assert code == 0, err
        report = json.loads(out)
        assert report["status"] == "updated" and report["records"] == len(expected_ids)
        assert "MedQuAD downloaded" in err and "XML files unpacked" in err

        folder = knowledge_dir / "medquad"
        assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.xml")) == sorted(
            p.relative_to(SAMPLE).as_posix() for p in SAMPLE.rglob("*.xml"))
        assert not (folder / "1_CancerGov_QA" / "notes.txt").exists()
        assert not list(folder.rglob("*.zip")) and not (folder / "readme.txt").exists()
        notice = (folder / "README.md").read_text(encoding="utf-8")
        assert "CC BY 4.0" in notice and "Ben Abacha" in notice
        assert "https://github.com/abachaa/MedQuAD" in notice
        assert [p.name for p in knowledge_dir.iterdir()] == ["medquad"]  # no .part left

        info = status(settings)
        assert info["records"] == len(expected_ids)
        assert set(info["files"]) == {f"medquad/{p.relative_to(SAMPLE).as_posix()}"
                                      for p in SAMPLE.rglob("*.xml")}
        code, out, _ = cli("status")
        assert code == 0 and "medquad/2_GARD_QA/0000004.xml" in out
        kb = KnowledgeBase(settings, embedder=FakeEmbedder())
        assert set(kb.current().records(sorted(expected_ids))) == expected_ids
        hits = Retriever(kb).search("What are the symptoms of ABCD syndrome ?", limit=3).hits
        assert hits[0].record.id == "GARD_0000004_Sec1.txt"
        assert hits[0].record.source_file == "medquad/2_GARD_QA/0000004.xml"

        asked = len(server.requests)
        code, out, err = cli("ingest", "--medquad")
        assert code == 0, err
        assert "already downloaded" in err and "Nothing changed" in out
        assert len(server.requests) == asked  # no second download


def test_an_interrupted_download_resumes_where_it_stopped(cli, settings, knowledge_dir,
                                                          expected_ids):
    body = archive()
    cut = len(body) // 3
    with FileServer(body) as server:
        server.cut_after = cut
        code, out, err = cli("ingest", "--medquad", url=server.url)
        assert code == 2 and out == ""
        line = err.strip().splitlines()[-1]
        assert line.startswith("error: MedQuAD download failed: " + server.url)
        assert line.endswith("run again to resume")
        assert (knowledge_dir / PART).stat().st_size == cut
        assert IndexRoot(settings.data_dir).versions() == []
        assert not (knowledge_dir / "medquad").exists()

        code, out, err = cli("ingest", "--medquad", url=server.url)
        assert code == 0, err
        assert server.requests[-1]["range"] == f"bytes={cut}-"
        assert server.requests[-1]["if_range"] == server.etag
        assert "resuming at" in err
    assert status(settings)["records"] == len(expected_ids)
    assert not (knowledge_dir / PART).exists()


def test_a_server_that_ignores_range_is_read_again_from_the_start(cli, settings, knowledge_dir,
                                                                  expected_ids):
    body = archive()
    with FileServer(body) as server:
        server.honour_range, server.cut_after = False, 1000
        assert cli("ingest", "--medquad", url=server.url)[0] == 2
        code, _, err = cli("ingest", "--medquad", url=server.url)
        assert code == 0, err
        assert server.requests[-1]["range"] == "bytes=1000-"  # asked, but got the whole file
        assert "starting over" in err
    assert status(settings)["records"] == len(expected_ids)


def test_a_complete_part_file_is_used_and_a_stale_one_replaced(cli, settings, knowledge_dir,
                                                               expected_ids):
    body = archive()
    with FileServer(body) as server:
        part = knowledge_dir / PART
        part.write_bytes(body)  # a run that stopped after the last byte
        (knowledge_dir / (PART + ".json")).write_text(json.dumps({"url": server.url}))
        code, _, err = cli("ingest", "--medquad", url=server.url)
        assert code == 0, err
        assert [r["range"] for r in server.requests] == [f"bytes={len(body)}-"]  # a 416

        # A part longer than the file (the file changed upstream): 416, then a fresh download.
        (knowledge_dir / "medquad" / MARKER).unlink()
        part.write_bytes(body + b"stale tail")
        (knowledge_dir / (PART + ".json")).write_text(json.dumps({"url": server.url}))
        code, _, err = cli("ingest", "--medquad", url=server.url)
        assert code == 0, err
        assert [r["range"] for r in server.requests[1:]] == [f"bytes={len(body) + 10}-", None]
    assert status(settings)["records"] == len(expected_ids)


def test_bytes_from_another_url_are_not_continued(tmp_path):
    body = archive()
    part = tmp_path / "x.part"
    part.write_bytes(body[:500])
    (tmp_path / "x.part.json").write_text(json.dumps({"url": "http://elsewhere/file.zip"}))
    with FileServer(body) as server:
        assert download.fetch(server.url, part, max_bytes=1 << 30) == len(body)
        assert server.requests[0]["range"] is None
    assert part.read_bytes() == body


def test_a_404_stops_with_one_line_and_the_active_index_stays(cli, settings, knowledge_dir):
    (knowledge_dir / "own.jsonl").write_text(
        '{"id": "o1", "question": "Why do my eyelids twitch?", "answer": "Mostly fatigue."}\n',
        encoding="utf-8")
    assert cli("ingest")[0] == 0
    before = (IndexRoot(settings.data_dir).active_file).read_bytes()
    with FileServer(archive()) as server:
        server.status = 404
        code, out, err = cli("ingest", "--medquad", url=server.url)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"error: MedQuAD download failed: {server.url}: HTTP 404 Not Found (check MEDQUAD_URL); "
        "run again to resume"]
    assert IndexRoot(settings.data_dir).active_file.read_bytes() == before
    assert status(settings)["records"] == 1
    assert sorted(p.name for p in knowledge_dir.iterdir()) == ["own.jsonl"]


def test_an_unreachable_server_is_a_network_error(cli, knowledge_dir):
    with FileServer(b"") as server:
        url = server.url
    code, _, err = cli("ingest", "--medquad", url=url)  # the server is gone: nothing listens
    assert code == 2
    assert f"MedQuAD download failed: {url}: ConnectError" in err


@pytest.mark.parametrize("member", [
    f"{TOP}/1_CancerGov_QA/../../../evil.xml",
    "../1_CancerGov_QA/evil.xml",
    "/etc/1_CancerGov_QA/evil.xml",
    f"{TOP}\\..\\1_CancerGov_QA\\evil.xml",
])
def test_an_archive_with_a_path_traversal_member_is_refused(cli, settings, knowledge_dir,
                                                            tmp_path, member):
    with FileServer(archive({member: b"<Document/>"})) as server:
        code, _, err = cli("ingest", "--medquad", url=server.url)
    assert code == 2
    assert "refused: member" in err and "outside its folder" in err
    assert "run again to download it anew" in err
    assert not list(tmp_path.rglob("evil.xml"))
    assert sorted(p.name for p in knowledge_dir.iterdir()) == []  # nothing unpacked, no .part
    assert IndexRoot(settings.data_dir).versions() == []


def test_links_oversized_and_repeated_members_are_refused():
    link = zipfile.ZipInfo(f"{TOP}/2_GARD_QA/0000004.xml")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    with pytest.raises(Refused, match="symbolic link"):
        members([link])
    big = zipfile.ZipInfo(f"{TOP}/2_GARD_QA/0000005.xml")
    big.file_size = 5 << 20
    with pytest.raises(Refused, match="over the"):
        members([big])
    with pytest.raises(Refused, match="none of the MedQuAD folders"):
        members([zipfile.ZipInfo(f"{TOP}/README.md")])


def test_a_repeated_member_or_a_damaged_archive_is_refused(cli, knowledge_dir):
    name = f"{TOP}/2_GARD_QA/0000004.xml"
    with pytest.warns(UserWarning, match="Duplicate name"):
        twice = archive({name: b"<Document/>"})
    with FileServer(twice) as server:
        code, _, err = cli("ingest", "--medquad", url=server.url)
        assert code == 2 and "is given twice" in err
        server.body = b"<html>a login page, not a zip</html>"
        code, _, err = cli("ingest", "--medquad", url=server.url)
        assert code == 2 and "refused: not a zip archive" in err
    assert list(knowledge_dir.iterdir()) == []


def test_a_wrong_sha256_deletes_the_download(cli, knowledge_dir):
    with FileServer(archive()) as server:
        code, _, err = cli("ingest", "--medquad", url=server.url, MEDQUAD_SHA256="0" * 64)
    assert code == 2 and "not the MEDQUAD_SHA256" in err
    assert list(knowledge_dir.iterdir()) == []


def test_a_new_url_replaces_the_old_download_whole(cli, knowledge_dir):
    with FileServer(archive()) as server:
        assert cli("ingest", "--medquad", url=server.url)[0] == 0
    smaller = io.BytesIO()
    with zipfile.ZipFile(smaller, "w") as zf:
        zf.writestr("6_NINDS_QA/0000007.xml", (SAMPLE / "6_NINDS_QA/0000007.xml").read_bytes())
    with FileServer(smaller.getvalue()) as mirror:
        code, out, err = cli("ingest", "--medquad", "--json", url=mirror.url)
    assert code == 0, err
    files = sorted(p.relative_to(knowledge_dir).as_posix()
                   for p in knowledge_dir.rglob("*") if p.is_file())
    assert files == ["medquad/.medquad.json", "medquad/6_NINDS_QA/0000007.xml",
                     "medquad/README.md"]
    assert json.loads(out)["removed"] > 0


def test_medquad_takes_no_paths_and_bad_settings_are_named(cli):
    code, _, err = cli("ingest", "--medquad", "some.jsonl")
    assert code == 2 and "give no PATH" in err
    code, _, err = cli("ingest", "--medquad", url="ftp://example.org/m.zip")
    assert code == 2 and "MEDQUAD_URL" in err
    code, _, err = cli("ingest", "--medquad", MEDQUAD_SHA256="abc")
    assert code == 2 and "MEDQUAD_SHA256" in err


def test_a_second_download_at_the_same_time_is_turned_away(settings, knowledge_dir):
    held = os.open(knowledge_dir, os.O_RDONLY)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        nowhere = settings.model_copy(update={"medquad_url": "http://127.0.0.1:9/m.zip"})
        with pytest.raises(MedquadError, match="another `ingest --medquad` is downloading"):
            fetch_medquad(nowhere)
    finally:
        os.close(held)
    assert list(knowledge_dir.iterdir()) == []


def test_the_progress_bar_is_drawn_on_a_terminal(tmp_path, capsys):
    body = archive()
    with FileServer(body) as server:
        download.fetch(server.url, tmp_path / "a.part", max_bytes=1 << 30, progress=True,
                       label="MedQuAD")
    err = capsys.readouterr().err
    assert "MedQuAD" in err and "B/s" in err


def test_a_file_over_the_size_cap_is_not_kept(tmp_path):
    with FileServer(b"x" * 5000) as server:
        with pytest.raises(download.DownloadError, match="over the 1,000-byte limit"):
            download.fetch(server.url, tmp_path / "a.part", max_bytes=1000)
    assert not (tmp_path / "a.part").exists()
