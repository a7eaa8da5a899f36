"""/guia: the good-practice guide lists every minimum standard with its guidance and the instances that meet it."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from api.guide import GUIDE_DIR, STANDARDS_SECTION


class Criteria(HTMLParser):
    """Per criterion block (div[data-criterion]): its text and the instance ids it links to."""

    def __init__(self):
        super().__init__()
        self.blocks: dict[str, dict] = {}
        self.sections: list[str] = []
        self._current: str | None = None
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "div":
            if self._current:
                self._depth += 1
            elif "data-criterion" in attrs:
                self._current, self._depth = attrs["data-criterion"], 1
                self.blocks[self._current] = {"text": "", "links": []}
        if self._current and tag == "a" and (match := re.fullmatch(r"/map#instancia=(\d+)", attrs.get("href", ""))):
            self.blocks[self._current]["links"].append(int(match[1]))

    def handle_endtag(self, tag):
        if self._current and tag == "div":
            self._depth -= 1
            if self._depth == 0:
                self._current = None

    def handle_data(self, data):
        if self._current:
            self.blocks[self._current]["text"] += data


def plain(markdown: str) -> str:
    """The first sentence of a guidance file as it reads on the page (no Markdown marks)."""
    first = markdown.split("\n\n")[0].replace("\n", " ")
    return re.sub(r"\*\*|\*|`", "", first).split(".")[1].strip()


def test_guide_lists_every_standard_with_its_guidance_and_the_instances_meeting_it(http, sql):
    response = http.get("/guia")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert '<html lang="es">' in response.text
    parsed = Criteria()
    parsed.feed(response.text)
    assert parsed.sections == ["introduccion", STANDARDS_SECTION, "realizar", "evaluar", "mapa-de-actores",
                               "herramientas"]
    for heading in ("Cómo realizar una instancia de participación", "Cómo evaluar una instancia", "Mapa de actores",
                    "Herramientas de colaboración", "Extremadura", "ARCRR0004"):
        assert heading in response.text

    criteria = sql("SELECT code, ordinal, label_es FROM published.standard_criteria ORDER BY ordinal")
    assert len(criteria) == 8
    assert list(parsed.blocks) == [code for code, _, _ in criteria]  # all eight, in their order
    guidance_files = {path.stem for path in (GUIDE_DIR / STANDARDS_SECTION).glob("*.md")}
    assert guidance_files == {code for code, _, _ in criteria}  # guidance keyed by criterion code, none missing
    for code, ordinal, label in criteria:
        block = parsed.blocks[code]
        text = " ".join(block["text"].split())
        assert f"{ordinal}. {label}" in text
        guidance = (GUIDE_DIR / STANDARDS_SECTION / f"{code}.md").read_text(encoding="utf-8")
        assert plain(guidance) in text, code
        assert "Cómo cumplirlo" in text and "en preparación" not in text
        meeting = [r[0] for r in sql("""SELECT s.instance_id FROM published.instance_standards s
                                        JOIN published.instances i ON i.id = s.instance_id
                                        WHERE s.criterion = %s AND s.met ORDER BY i.name, i.id""", (code,))]
        assert meeting, f"no instance meets {code} in the test data"
        assert block["links"] == meeting, code
