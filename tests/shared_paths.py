"""Where the shared sample data lives: the folder `shared` next to the repository."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "corpus"
SAMPLE_PAGE = SHARED / "samples" / "qa-page-muscle-twitching.txt"
MEDQUAD = SHARED / "data" / "medquad"
