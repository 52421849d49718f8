"""Physical address -> (channel, rank, bankgroup, bank, row, column) by a field string.

A mapping is written from MSB to LSB as two-letter fields: ``Ch`` channel, ``Ra`` rank, ``Bg``
bank group, ``Ba`` bank, ``Ro`` row, ``Co`` column (in bursts). The low log2(burst bytes) bits are
the byte offset inside one burst and are not part of the string. ``Bg`` may be left out; ``Ba``
then holds the whole bank index (bank group in its high bits), so ``RoBaRaCoCh`` keeps
consecutive bursts in one bank — and so in one bank group — while ``RoRaBaCoBgCh`` spreads them
over bank groups. Address bits above the device capacity wrap around.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sim.dram.spec import Organization
from workloads.errors import SpecError

FIELDS = ("Ch", "Ra", "Bg", "Ba", "Ro", "Co")
_FIELD_RE = re.compile(r"Ch|Ra|Bg|Ba|Ro|Co")


def _log2(value: int) -> int:
    return value.bit_length() - 1


@dataclass(frozen=True)
class DecodedAddress:
    """Coordinates of one burst-sized access."""

    channel: int
    rank: int
    bankgroup: int
    bank: int
    row: int
    column: int


@dataclass(frozen=True)
class AddressMapping:
    """A parsed mapping string with per-field (shift, mask) from the LSB of the burst index."""

    text: str
    offset_bits: int
    fields: tuple[tuple[str, int, int], ...]
    split_bank: bool
    banks_per_group: int

    @classmethod
    def parse(cls, text: str, org: Organization) -> "AddressMapping":
        pieces = _FIELD_RE.findall(text)
        if "".join(pieces) != text:
            raise SpecError(f"address mapping {text!r}: use two-letter fields from MSB to LSB "
                            f"out of {', '.join(FIELDS)} (e.g. RoBaRaCoCh, RoRaBaCoBgCh)")
        required = {"Ch", "Ra", "Ba", "Ro", "Co"}
        missing = required - set(pieces)
        dupes = {p for p in pieces if pieces.count(p) > 1}
        if missing or dupes:
            raise SpecError(f"address mapping {text!r}: each of Ch Ra Ba Ro Co exactly once "
                            f"(Bg optional); missing {sorted(missing)}, repeated {sorted(dupes)}")
        split_bank = "Bg" in pieces
        widths = {
            "Ch": _log2(org.channels), "Ra": _log2(org.ranks),
            "Bg": _log2(org.bankgroups),
            "Ba": _log2(org.banks_per_group) if split_bank else _log2(org.banks_per_rank),
            "Ro": _log2(org.rows), "Co": _log2(org.bursts_per_row),
        }
        shift, fields = 0, []
        for name in reversed(pieces):
            fields.append((name, shift, (1 << widths[name]) - 1))
            shift += widths[name]
        return cls(text, _log2(org.burst_bytes), tuple(fields), split_bank, org.banks_per_group)

    def decode(self, address: int) -> DecodedAddress:
        burst = address >> self.offset_bits
        values = {name: (burst >> shift) & mask for name, shift, mask in self.fields}
        if self.split_bank:
            bankgroup, bank = values["Bg"], values["Ba"]
        else:
            bankgroup, bank = divmod(values["Ba"], self.banks_per_group)
        return DecodedAddress(values["Ch"], values["Ra"], bankgroup, bank, values["Ro"],
                              values["Co"])
