"""The server errors the fuzzer and the page walk found, grouped by cause, written as
Markdown to the file named by FUZZ_FINDINGS (when set) so a run leaves a list to work from.
Each module owns one section of the file and rewrites only that one."""

import os
import re
from pathlib import Path


def cause_of(traceback_text: str) -> str:
    """The last line of a traceback (« ValueError: … »), or « (no traceback) »."""
    lines = [line for line in traceback_text.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:300] if lines else "(no traceback)"


def where_in_code(traceback_text: str) -> str:
    """The deepest frame in our own code: « cohorte/x/views.py:12 in view »."""
    frames = re.findall(r'File "([^"]*cohorte/[^"]*)", line (\d+), in (\S+)', traceback_text)
    frames = [frame for frame in frames if "/site-packages/" not in frame[0]]
    if not frames:
        return ""
    path, line, function = frames[-1]
    return f"{path[path.rfind('cohorte/') :]}:{line} in {function}"


def _kind(cause: str) -> str:
    """The cause without the value that caused it: « ValueError: invalid literal… »."""
    return re.sub(r"'[^']*'|\"[^\"]*\"", "…", cause)


def group(findings: list[dict]) -> dict[tuple[str, str], list[dict]]:
    grouped: dict[tuple[str, str], list[dict]] = {}
    for finding in findings:
        text = finding.get("traceback", "")
        grouped.setdefault((where_in_code(text), _kind(cause_of(text))), []).append(finding)
    return grouped


def render(title: str, findings: list[dict]) -> str:
    lines = [f"## {title}", ""]
    if not findings:
        return "\n".join([*lines, "No server error.", ""])
    grouped = group(findings)
    lines.append(f"{len(findings)} failing request(s), {len(grouped)} cause(s).")
    lines.append("")
    for (where, _cause), items in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        lines.append(f"### {cause_of(items[0].get('traceback', ''))}")
        lines.append(f"- where: `{where or '?'}` — {len(items)} request(s)")
        roles: dict[str, list[str]] = {}
        for item in items:
            roles.setdefault(item["where"], [])
            if item.get("role") and item["role"] not in roles[item["where"]]:
                roles[item["where"]].append(item["role"])
        for shown, (label, who) in enumerate(roles.items()):
            if shown == 8:
                lines.append(f"- … and {len(roles) - 8} more")
                break
            lines.append(f"- `{label}`" + (f" — roles: {', '.join(who)}" if who else ""))
        first = _ours(items[0].get("traceback", ""))
        if first:
            lines.append("")
            lines.append("```")
            lines.extend(first)
            lines.append("```")
        lines.append("")
    return "\n".join(lines)


def _ours(traceback_text: str) -> list[str]:
    """The traceback's frames in our code (file line and source line) and its last line."""
    lines = traceback_text.strip().splitlines()
    kept = []
    for index, line in enumerate(lines):
        if 'File "' in line and "cohorte/" in line and "/site-packages/" not in line:
            kept.append(line.strip())
            if index + 1 < len(lines):
                kept.append("    " + lines[index + 1].strip())
    return [*kept[-10:], lines[-1].strip()] if lines else []


def record_findings(section: str, findings: list[dict]) -> None:
    target = os.environ.get("FUZZ_FINDINGS")
    if not target:
        return
    from django.db import connection

    section = f"{section} on {connection.vendor}"
    path = Path(target)
    text = path.read_text() if path.exists() else "# Server errors found by the fuzz tests\n\n"
    begin, end = f"<!-- {section} -->", f"<!-- /{section} -->"
    block = f"{begin}\n{render(section, findings)}\n{end}"
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)
