"""A VCF re-rendered as Pangolin writes it: PyVCF 0.6.8's reader and writer, reproduced on text lines.

Pangolin (tkzeng/Pangolin 5cf94b8) reads its input with ``vcf.Reader`` and writes
every record back through ``vcf.Writer``, so its output is not the input with one
INFO field added: PyVCF parses the header and each record into Python values and
prints them again.  :class:`PyvcfText` does the same on text, byte for byte:

* header: ``##`` lines regrouped (other metadata in order of each key's first
  line, all lines of a key together, then INFO, FORMAT, FILTER, ALT, contig);
  ``fileformat``, ``fileDate`` and ``reference`` keep their last value only;
  INFO/FORMAT/FILTER/ALT/contig lines rewritten from their parsed fields (Source,
  Version and contig keys other than ID and length dropped, Number ``-1`` printed
  ``A``, a later line with the same ID replacing an earlier one in its place);
  ``<...>`` metadata re-joined as ``key=value`` pairs; runs of spaces are tabs.
* records: fields split on tabs and on runs of spaces; POS, QUAL, Integer and
  Float values printed as Python's ``int``/``float`` (``007`` -> ``7``, ``1e3``
  -> ``1000.0``, QUAL ``0`` -> ``.``); INFO sorted by header order, undefined keys
  last and alphabetically; a Flag's value and all but the first value of a
  Number=1 field dropped; FORMAT ``.`` drops the sample columns; missing sample
  values filled with ``.``; breakend ALTs rebuilt.

Where PyVCF raises (a malformed INFO line, ``DP=abc`` for an Integer, a FORMAT key
that is no Python identifier...), Pangolin stops with a traceback.  Here nothing
raises: the piece PyVCF cannot parse is kept as written, and
:attr:`PyvcfText.header_problems` / :meth:`PyvcfText.record_problems` say what
PyVCF would have raised on.
"""

from __future__ import annotations

import keyword
import re

SINGULAR_METADATA = ("fileformat", "fileDate", "reference")

# Types PyVCF gives INFO and FORMAT keys the header does not define (its String ones
# are left out: an undefined key is a String when it has a value, a Flag when not).
RESERVED_INFO = {
    **dict.fromkeys(("AC", "AN", "DP", "END", "MQ0", "NS", "SVLEN", "CIPOS", "CIEND", "HOMLEN", "CILEN", "DPADJ",
                     "CN", "CNADJ", "CICN", "CICNADJ"), "Integer"),
    **dict.fromkeys(("AF", "BQ", "MQ"), "Float"),
    **dict.fromkeys(("DB", "H2", "H3", "SOMATIC", "VALIDATED", "1000G", "IMPRECISE", "NOVEL"), "Flag"),
}
RESERVED_FORMAT = {
    **dict.fromkeys(("DP", "PL", "GQ", "HQ", "PS", "PQ", "EC", "MQ", "CN", "NQ", "HAP", "AHAP"), "Integer"),
    **dict.fromkeys(("GL", "GP", "CNQ", "CNL"), "Float"),
}

_COLUMNS = re.compile(r"\t| +")
_NUMBER = r"(?P<number>-?\d+|\.|[AGR])"
_INFO = re.compile(
    r"##INFO=<ID=(?P<id>[^,]+),\s*Number=" + _NUMBER + r",\s*Type=(?P<type>Integer|Float|Flag|Character|String)"
    r',\s*Description="(?P<desc>[^"]*)"(?:,\s*Source="[^"]*")?(?:,\s*Version="?[^"]*"?)?>'
)
_FORMAT = re.compile(
    r"##FORMAT=<ID=(?P<id>.+),\s*Number=" + _NUMBER + r',\s*Type=(?P<type>.+),\s*Description="(?P<desc>.*)">'
)
_FILTER = re.compile(r'##FILTER=<ID=(?P<id>[^,]+),\s*Description="(?P<desc>[^"]*)">')
_ALT = re.compile(r'##ALT=<ID=(?P<id>[^,]+),\s*Description="(?P<desc>[^"]*)">')
_CONTIG = re.compile(r"##contig=<ID=(?P<id>[^>,]+)(?:,.*length=(?P<length>-?\d+))?.*>")
_HASH_META = re.compile(r"##.+=<")
_PLAIN_META = re.compile(r"##(?P<key>.+?)=(?P<value>.+)")
_LOOSE_FIELD = re.compile(r"(?:<|,)\s*(ID|Number|Type)=([^,>]*)")

# Header numbers as PyVCF keeps them: '.' -> None, the letters -> negative codes.
_LETTER_COUNTS = {".": None, "A": -1, "G": -2, "R": -3}
_COUNT_LETTERS = {count: letter for letter, count in _LETTER_COUNTS.items()}

Value = str | int | float | bool | None | list


def _count(number: str) -> int | None:
    """A header Number as PyVCF stores it (``"2"`` -> 2, ``"A"`` -> -1, ``"."`` -> None)."""
    return _LETTER_COUNTS[number] if number in _LETTER_COUNTS else int(number)


def _number_text(count: int | None) -> str:
    """A stored Number printed back (-1 -> ``A`` whether it was written ``A`` or ``-1``)."""
    return _COUNT_LETTERS.get(count, str(count))


def _text(value: Value) -> str:
    """One parsed value printed as PyVCF prints it: None -> ``.``, floats by ``repr``, lists joined by commas."""
    if isinstance(value, list):
        return ",".join(_text(item) for item in value)
    return "." if value is None else str(value)


def _integers(items: list[str]) -> list[int | float | None]:
    """Integer values (``.`` missing): all ``int``, or all ``float`` when one is no integer; else ValueError."""
    try:
        return [None if item == "." else int(item) for item in items]
    except ValueError:
        return _floats(items)


def _floats(items: list[str]) -> list[int | float | None]:
    """Float values (``.`` missing); ValueError on any other text."""
    return [None if item == "." else float(item) for item in items]


def hash_pairs(text: str) -> dict[str, str]:
    """The ``key=value`` pairs of a ``##key=<...>`` line's inside, split as PyVCF splits them.

    A value opening with ``"`` runs to the next ``"`` (commas inside kept); a key
    without ``=`` gets the empty value; a later repeat of a key replaces its value.
    """
    pairs: dict[str, str] = {}
    key = value = ""
    state = "key"
    for char in text:
        if state == "key":
            if char == "=":
                state = "value"
            else:
                key += char
        elif state == "quoted":
            value += char
            state = "value" if char == '"' else "quoted"
        elif char == '"' and not value:
            value, state = '"', "quoted"
        elif char == ",":
            pairs[key] = value
            key = value = ""
            state = "key"
        else:
            value += char
    if key:
        pairs[key] = value
    return pairs


def metadata_line(line: str) -> tuple[str, str]:
    """A ``##`` line other than INFO/FORMAT/FILTER/ALT/contig: its grouping key and the line PyVCF writes."""
    if _HASH_META.match(line):
        head, _, inside = line.partition("=")
        key = head.lstrip("#")
        pairs = hash_pairs(inside.strip("[<>]"))
        inside = ",".join(f"{name}={value}" for name, value in pairs.items())
        return key, f"##{key}=<{inside}>"
    match = _PLAIN_META.match(line)
    if match is None:
        key = line.lstrip("#")
        return key, f"##{key}=none"
    return match["key"], f"##{match['key']}={match['value']}"


def breakend(alt: str) -> str:
    """A breakend ALT (``G]17:198982]``) as PyVCF rebuilds it; IndexError/ValueError where PyVCF raises.

    Only the text before the first bracket pair (or after it, when the ALT opens
    with a bracket) is kept as the connecting sequence, the mate position goes
    through ``int`` and the bracket kind is ``[`` whenever the ALT has any ``[``.
    """
    pieces = re.split(r"[\[\]]", alt)
    mate = pieces[1].split(":")
    name = f"<{mate[0][1:-1]}>" if mate[0][0] == "<" else mate[0]  # PyVCF cuts a first '<' and the last character
    position = int(mate[1])
    tag = f"[{name}:{position}[" if "[" in alt else f"]{name}:{position}]"
    return tag + pieces[2] if alt[0] in "[]" else pieces[0] + tag


class PyvcfText:
    """PyVCF 0.6.8's rendering of one VCF's header and records, with INFO definitions added.

    Parameters
    ----------
    header_lines
        The input's header lines, each ``##`` line and the ``#CHROM`` line, without line ends.
    info_headers
        INFO definitions to add, ``(id, number, type, description)``, as Pangolin adds
        ``("Pangolin", ".", "String", "Pangolin splice scores. ...")``: appended after the
        input's INFO lines, or replacing one with the same id in its place.  The number is
        printed as given and, as Pangolin hands it to PyVCF as text, never counts as Number=1.

    Attributes
    ----------
    samples
        The column line's sample names as PyVCF splits them (a name with a space is two).
    header_problems
        What PyVCF would raise on in the header (``vcf.Reader`` fails before any record).
    """

    def __init__(self, header_lines: list[str], info_headers: list[tuple[str, str, str, str]]) -> None:
        self.header_problems: list[str] = []
        self._metadata: dict[str, list[str]] = {}
        self._sections: dict[str, dict[str, str]] = {key: {} for key in ("INFO", "FORMAT", "FILTER", "ALT", "contig")}
        self._info_types: dict[str, tuple[str, int | str | None]] = {}
        self._format_types: dict[str, tuple[str, int | None]] = {}
        self._column_line: str | None = None
        self.samples: list[str] = []
        for raw in header_lines:
            line = raw.strip()
            if not line:
                continue
            if self._column_line is not None:
                self.header_problems.append(f"a line after the column line (PyVCF reads it as a record): {line}")
            elif line.startswith("##"):
                self._header_line(line)
            else:
                columns = _COLUMNS.split(line[1:])
                self._column_line = "#" + "\t".join(columns)
                self.samples = columns[9:]
        if self._column_line is None:
            self.header_problems.append("no #CHROM line (PyVCF reads the first record as the column line)")
        for info_id, number, kind, description in info_headers:
            self._sections["INFO"][info_id] = f'##INFO=<ID={info_id},Number={number},Type={kind},' \
                f'Description="{description}">'
            self._info_types[info_id] = (kind, number)
        self._info_order = {info_id: index for index, info_id in enumerate(self._info_types)}

    def _header_line(self, line: str) -> None:
        """File one stripped ``##`` line under its section or metadata key."""
        for section, pattern in (("INFO", _INFO), ("FORMAT", _FORMAT), ("FILTER", _FILTER), ("ALT", _ALT),
                                 ("contig", _CONTIG)):
            if line.startswith("##" + section):
                break
        else:
            key, text = metadata_line(line)
            if key in SINGULAR_METADATA:
                self._metadata[key] = [text]
            else:
                self._metadata.setdefault(key, []).append(text)
            return
        match = pattern.match(line)
        if match is None:
            self.header_problems.append(f"malformed {section} line (PyVCF raises SyntaxError): {line}")
            self._malformed(section, line)
            return
        fields = match.groupdict()
        ident = fields["id"]
        if section in ("INFO", "FORMAT"):
            count = _count(fields["number"])
            self._sections[section][ident] = (
                f'##{section}=<ID={ident},Number={_number_text(count)},Type={fields["type"]},'
                f'Description="{fields["desc"]}">'
            )
            types = self._info_types if section == "INFO" else self._format_types
            types[ident] = (fields["type"], count)
        elif section == "contig":
            length = int(fields["length"] or 0)  # a length of 0 is not written either
            self._sections[section][ident] = f"##contig=<ID={ident}" + (f",length={length}>" if length else ">")
        else:
            self._sections[section][ident] = f'##{section}=<ID={ident},Description="{fields["desc"]}">'

    def _malformed(self, section: str, line: str) -> None:
        """Keep a line PyVCF cannot parse as written, in its section; use its ID, Number and Type if readable."""
        loose = dict(_LOOSE_FIELD.findall(line))
        ident = loose.get("ID") or line
        self._sections[section][ident] = line
        if section in ("INFO", "FORMAT") and "ID" in loose:
            try:
                count = _count(loose.get("Number", "."))
            except ValueError:
                count = None
            types = self._info_types if section == "INFO" else self._format_types
            types[ident] = (loose.get("Type", "String"), count)

    def header(self) -> str:
        """The whole header as PyVCF writes it, the INFO definitions added, newlines included."""
        lines = [text for texts in self._metadata.values() for text in texts]
        for section in self._sections.values():
            lines.extend(section.values())
        if self._column_line is not None:
            lines.append(self._column_line)
        return "".join(line + "\n" for line in lines)

    def record(self, line: str, info: dict[str, str]) -> str:
        """One data line (without its line end) as PyVCF writes it, ``info`` set; ``""`` for a blank line.

        Each ``info`` value is printed as given after ``id=``, replacing a field of the
        same id.  A line of fewer than 8 columns comes back as its columns, unchanged.
        """
        return self._render(line, info, [])

    def record_problems(self, line: str) -> list[str]:
        """What PyVCF would raise on in this data line (empty when it reads it)."""
        problems: list[str] = []
        self._render(line, {}, problems)
        return problems

    def _render(self, line: str, info: dict[str, str], problems: list[str]) -> str:
        text = line.strip()
        if not text:
            return ""
        columns = _COLUMNS.split(text)
        if len(columns) < 8:
            problems.append(f"{len(columns)} columns, fewer than 8")
            return "\t".join(columns) + "\n"
        chrom, pos, ident, ref, alts, qual, filters, info_text = columns[:8]
        try:
            pos = str(int(pos))
        except ValueError:
            problems.append(f"POS {pos!r} is no integer")
        out = [chrom, pos, ident, ref, ",".join(self._alt(alt, problems) for alt in alts.split(",")),
               self._qual(qual), filters, self._info(info_text, info, problems)]
        keys = columns[8] if len(columns) > 8 and columns[8] != "." else None
        if keys is not None:
            out.extend(self._samples(keys, columns[9:], problems))
        return "\t".join(out) + "\n"

    @staticmethod
    def _alt(alt: str, problems: list[str]) -> str:
        if not alt:
            problems.append("an empty ALT allele")
        elif "[" in alt or "]" in alt:
            try:
                return breakend(alt)
            except (IndexError, ValueError):
                problems.append(f"breakend ALT {alt!r} without a mate contig and integer position")
        return alt

    @staticmethod
    def _qual(qual: str) -> str:
        """QUAL through ``int``, else ``float``, else missing; 0 (any zero) and missing print ``.``."""
        value: int | float | None
        try:
            value = int(qual)
        except ValueError:
            try:
                value = float(qual)
            except ValueError:
                value = None
        return str(value) if value else "."

    def _info(self, text: str, added: dict[str, str], problems: list[str]) -> str:
        """The INFO column: entries parsed and printed back, ``added`` set, sorted by header order then name."""
        entries: dict[str, str] = {}
        for entry in text.split(";") if text != "." else []:
            key, equals, value = entry.partition("=")
            try:
                entries[key] = self._info_entry(key, value if equals else None)
            except (ValueError, IndexError):
                problems.append(f"INFO {entry!r} cannot be read as its type")
                entries[key] = entry
        for key, value in added.items():
            entries[key] = f"{key}={value}"
        if not entries:
            return "."
        last = len(self._info_order)  # keys the header does not define, after all it defines
        return ";".join(entries[key] for key in sorted(entries, key=lambda key: (self._info_order.get(key, last), key)))

    def _info_entry(self, key: str, value: str | None) -> str:
        """One INFO entry printed back (``value`` None: written without ``=``); ValueError/IndexError as PyVCF."""
        default = RESERVED_INFO.get(key) or ("Flag" if value is None else "String")
        kind, count = self._info_types.get(key, (default, None))
        if kind == "Flag" or (value is None and kind not in ("Integer", "Float")):
            return key
        if value is None:
            raise IndexError(f"{key} has no value")
        items = value.split(",")
        parsed: Value = (_integers(items) if kind == "Integer" else _floats(items) if kind == "Float"
                         else [None if item == "." else item for item in items])
        if count == 1:
            parsed = parsed[0]
        return f"{key}={_text(parsed)}"

    def _samples(self, keys: str, columns: list[str], problems: list[str]) -> list[str]:
        """FORMAT and the sample columns (one per header sample at most) as PyVCF prints them."""
        names = keys.split(":")
        bad = [name for name in names if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_")]
        if bad or len(set(names)) < len(names):
            problems.append(f"FORMAT {keys!r}: keys must be distinct Python identifiers")
            return [keys, *columns]
        rendered = [self._sample(names, keys, column, problems) for column in columns[: len(self.samples)]]
        return [keys, *rendered]

    @staticmethod
    def _format_value(value: str, kind: str, count: int | None) -> Value:
        """One sample value (not empty, not ``.``): a scalar when Number=1 or without commas."""
        if count == 1 or "," not in value:
            return _integers([value])[0] if kind == "Integer" else float(value) if kind == "Float" else value
        items = value.split(",")
        return _integers(items) if kind == "Integer" else _floats(items) if kind in ("Float", "Numeric") else items

    def _sample(self, names: list[str], keys: str, column: str, problems: list[str]) -> str:
        values = column.split(":")
        if len(values) > len(names):
            problems.append(f"sample {column!r} has more values than FORMAT {keys!r}")
            return column
        if "GT" in names and names.index("GT") >= len(values):
            problems.append(f"sample {column!r} has no GT value")  # PyVCF's genotype split gets None
            return column
        parsed: list[Value] = [None] * len(names)
        for index, value in enumerate(values):
            name = names[index]
            if name == "GT":
                parsed[index] = value
            elif value and value != ".":
                kind, count = self._format_types.get(name, (RESERVED_FORMAT.get(name, "String"), None))
                try:
                    parsed[index] = self._format_value(value, kind, count)
                except ValueError:
                    problems.append(f"sample value {value!r} of {name} is no {kind}")
                    return column
        genotype = parsed[names.index("GT")] if "GT" in names else ("./." if "GT" in keys else "")
        if not genotype:
            return ":".join(_text(value) for value in parsed)
        return ":".join([str(genotype)] + [_text(value) for value in parsed[1:]])
