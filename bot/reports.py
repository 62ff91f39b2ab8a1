"""Human-readable renderings of ingest reports and index status."""

from __future__ import annotations

from bot.ingest import IngestReport


def format_ingest(report: IngestReport) -> str:
    """The ingest report as a person reads it."""
    lines: list[str] = []
    if report.status == "failed":
        lines.append(f"Ingest failed, nothing changed: {report.error}")
        if report.previous:
            lines.append(f"  the active version is still {report.previous}")
        return "\n".join(lines)
    if report.status == "unchanged":
        lines.append(f"Nothing changed: version {report.version} stays active "
                     f"({report.records:,} records, checked in {report.seconds:.1f} s)")
    else:
        since = f" (previous {report.previous})" if report.previous else ""
        lines.append(f"Built and switched to version {report.version}{since} "
                     f"in {report.seconds:.1f} s")
        lines.append(f"  vectors: {report.embedded:,} embedded, {report.reused:,} reused")
    lines.append(
        f"  records: {report.records:,} (added {report.added:,}, changed {report.changed:,}, "
        f"unchanged {report.unchanged:,}, removed {report.removed:,}, "
        f"rejected {report.rejected:,})"
    )
    if report.files:
        lines.append("  files:")
        width = max(len(f.status) for f in report.files)
        for f in report.files:
            extra = f", {f.rejected} rejected" if f.rejected else ""
            lines.append(f"    {f.status:<{width}}  {f.path}  ({f.records:,} records{extra})")
    if report.rejections:
        lines.append(f"  rejected ({len(report.rejections)}):")
        lines.extend(f"    {r}" for r in report.rejections[:50])
        if len(report.rejections) > 50:
            lines.append(f"    ... and {len(report.rejections) - 50} more (see --json)")
    if report.skipped:
        lines.append("  skipped (not a corpus format):")
        lines.extend(f"    {s}" for s in report.skipped)
    return "\n".join(lines)


def format_status(info: dict) -> str:
    """`symptom-bot status` as a person reads it."""
    if not info.get("version"):
        return ("The knowledge base is empty: put corpus files in KNOWLEDGE_DIR and run "
                f"`symptom-bot ingest`.\n  index: {info['index_path']}")
    lines = [
        f"Active version: {info['version']} (previous: {info['previous'] or 'none'})",
        f"  records: {info['records']:,} ({info['chunks']:,} embedded texts; "
        "identical texts share a vector)",
        f"  embedding model: {info['embedding_model']} ({info['dimension']} dimensions)",
        f"  built: {info['built']}",
        f"  index: {info['index_path']}",
        f"  vectors: {info['vector_store']} (collections {info.get('collection')}-questions, "
        "-titles, -answers)",
        "  by kind: " + ", ".join(f"{k} {v:,}" for k, v in info["kinds"].items()),
        "  by file:",
    ]
    lines.extend(f"    {path}: {count:,}" for path, count in info["files"].items())
    return "\n".join(lines)
