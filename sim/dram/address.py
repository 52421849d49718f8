"""Physical address -> (channel, rank, bankgroup, bank, row, column) by a mapping name.

Two families of names, told apart by a prefix (docs/dram.md, "Address mapping"):

* **einspace strings** (no prefix, or ``einspace:``): written from MSB to LSB as two-letter fields
  ``Ch`` channel, ``Ra`` rank, ``Bg`` bank group, ``Ba`` bank, ``Ro`` row, ``Co`` column (in
  bursts). ``Bg`` may be left out; ``Ba`` then holds the whole bank index with the bank group in
  its *high* bits, so ``RoBaRaCoCh`` keeps consecutive bursts in one bank — and so in one bank
  group — while ``RoRaBaCoBgCh`` spreads them over bank groups. This is einspace's own layout,
  not Ramulator's for the same letters.
* **Ramulator 2.0 mappers** (``ramulator:RoBaRaCoCh``, ``ramulator:ChRaBaRoCo``): the bit layout
  Ramulator 2.0's linear mappers (`src/addr_mapper/impl/linear_mappers.cpp`) give the level
  hierarchy channel, rank (HBM2: pseudo channel), bank group, bank, row, column. ``RoBaRaCoCh``
  slices the burst index from the LSB up as channel, column, rank, bank group, bank, row;
  ``ChRaBaRoCo`` as column, row, bank, bank group, rank, channel. A level a standard lacks has one
  node and takes no bits.

The low log2(burst bytes) bits are the byte offset inside one burst and belong to no field.
Address bits above the device capacity wrap around.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sim.dram.spec import Organization
from workloads.errors import SpecError

FIELDS = ("Ch", "Ra", "Bg", "Ba", "Ro", "Co")
EINSPACE_PREFIX = "einspace:"
RAMULATOR_PREFIX = "ramulator:"
# Ramulator 2.0 linear mappers: the fields in the order they are sliced off the burst index,
# least significant first (linear_mappers.cpp: RoBaRaCoCh takes channel, then column, then the
# levels from rank down to row; ChRaBaRoCo takes every level from column up to channel).
RAMULATOR_MAPPERS: dict[str, tuple[str, ...]] = {
    "RoBaRaCoCh": ("Ch", "Co", "Ra", "Bg", "Ba", "Ro"),
    "ChRaBaRoCo": ("Co", "Ro", "Ba", "Bg", "Ra", "Ch"),
}
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


def mapping_names() -> list[str]:
    """Examples of accepted mapping names, for messages and `--help`."""
    return ["RoRaBaCoBgCh", "RoBaRaCoCh", "einspace:RoBaRaCoCh"] + [
        RAMULATOR_PREFIX + name for name in RAMULATOR_MAPPERS]


def _field_widths(org: Organization, split_bank: bool) -> dict[str, int]:
    return {"Ch": _log2(org.channels), "Ra": _log2(org.ranks), "Bg": _log2(org.bankgroups),
            "Ba": _log2(org.banks_per_group) if split_bank else _log2(org.banks_per_rank),
            "Ro": _log2(org.rows), "Co": _log2(org.bursts_per_row)}


def _einspace_order(text: str, body: str) -> tuple[list[str], bool]:
    """The fields of an einspace string, LSB first, and whether ``Bg`` is its own field."""
    pieces = _FIELD_RE.findall(body)
    if "".join(pieces) != body:
        raise SpecError(f"address mapping {text!r}: use two-letter fields from MSB to LSB "
                        f"out of {', '.join(FIELDS)} (e.g. RoBaRaCoCh, RoRaBaCoBgCh), or one of "
                        f"{', '.join(RAMULATOR_PREFIX + n for n in RAMULATOR_MAPPERS)}")
    missing = {"Ch", "Ra", "Ba", "Ro", "Co"} - set(pieces)
    dupes = {p for p in pieces if pieces.count(p) > 1}
    if missing or dupes:
        raise SpecError(f"address mapping {text!r}: each of Ch Ra Ba Ro Co exactly once "
                        f"(Bg optional); missing {sorted(missing)}, repeated {sorted(dupes)}")
    return list(reversed(pieces)), "Bg" in pieces


@dataclass(frozen=True)
class AddressMapping:
    """A parsed mapping with per-field (shift, mask) from the LSB of the burst index."""

    text: str
    offset_bits: int
    fields: tuple[tuple[str, int, int], ...]
    split_bank: bool
    banks_per_group: int

    @classmethod
    def parse(cls, text: str, org: Organization) -> "AddressMapping":
        if text.startswith(RAMULATOR_PREFIX):
            name = text[len(RAMULATOR_PREFIX):]
            if name not in RAMULATOR_MAPPERS:
                raise SpecError(f"address mapping {text!r}: Ramulator 2.0 mappers here are "
                                f"{', '.join(RAMULATOR_PREFIX + n for n in RAMULATOR_MAPPERS)}")
            lsb_first, split_bank = list(RAMULATOR_MAPPERS[name]), True
        else:
            body = text[len(EINSPACE_PREFIX):] if text.startswith(EINSPACE_PREFIX) else text
            lsb_first, split_bank = _einspace_order(text, body)
        widths = _field_widths(org, split_bank)
        shift, fields = 0, []
        for name in lsb_first:
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

    def encode(self, where: DecodedAddress) -> int:
        """The lowest byte address that `decode` maps to `where` (each coordinate must fit its
        field; a `SpecError` names the first that does not)."""
        values = {"Ch": where.channel, "Ra": where.rank, "Ro": where.row, "Co": where.column}
        if self.split_bank:
            values["Bg"], values["Ba"] = where.bankgroup, where.bank
        else:
            if not 0 <= where.bank < self.banks_per_group:
                raise SpecError(f"bank {where.bank} is outside 0..{self.banks_per_group - 1}")
            values["Ba"] = where.bankgroup * self.banks_per_group + where.bank
        burst = 0
        for name, shift, mask in self.fields:
            if not 0 <= values[name] <= mask:
                raise SpecError(f"{name} = {values[name]} is outside 0..{mask} "
                                f"(mapping {self.text})")
            burst |= values[name] << shift
        return burst << self.offset_bits


def vector_address(mapping: AddressMapping, org: Organization):
    """A function from a Ramulator address vector to the byte address `mapping` decodes to it.

    The vector lists one index per level, outermost first, as Ramulator's ReadWriteTrace gives
    it: ``channel, rank, bankgroup, bank, row, column`` (6 values; HBM2: rank = pseudo channel)
    or ``channel, bankgroup, bank, row, column`` (5 values, for a standard without ranks such as
    Ramulator's GDDR6). Column counts bursts, as Ramulator's mapped column does."""
    def place(vector: list[int]) -> int:
        if len(vector) == 5 and org.ranks == 1:
            vector = [vector[0], 0, *vector[1:]]
        if len(vector) != 6:
            raise SpecError(f"address vector of {len(vector)} values; expected 6 "
                            "(channel,rank,bankgroup,bank,row,column)"
                            + (" or 5 (channel,bankgroup,bank,row,column)" if org.ranks == 1
                               else ""))
        limits = (org.channels, org.ranks, org.bankgroups, org.banks_per_group, org.rows,
                  org.bursts_per_row)
        for name, value, limit in zip(("channel", "rank", "bankgroup", "bank", "row", "column"),
                                      vector, limits):
            if not 0 <= value < limit:
                raise SpecError(f"address vector {name} {value} is outside 0..{limit - 1}")
        return mapping.encode(DecodedAddress(*vector))
    return place
