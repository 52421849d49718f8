"""Extended Einsums: one output access, up to two input accesses, a binary map operator,
pointwise unary operators, and a reduction over the ranks absent from the output.

Semantics, for every point of the iteration space (all ranks any access or mask names):
    v = map(in0[...], in1[...])          # or in0[...] alone
    v = pre_unary_k(... pre_unary_1(v))  # pointwise, in the iteration space
    out[...] = reduce over missing ranks of v, then post unaries in the output space

Two special kinds cover data movement that is not arithmetic: `gather` (an embedding lookup,
`out[b,p,d] = table[idx[b,p], d]`) and `append` (the KV cache written in place:
`out = cache_in` with `new` placed at position `at` along one rank).

Mixture-of-Experts routing uses the selection reductions `topk` / `argtopk` (ops.SELECT_OPS):
    "TV[B,P,K] = R[B,P,X]" with reduce_op="topk"   (the K largest router logits over X)
    "TI[B,P,K] = R[B,P,X]" with reduce_op="argtopk" (their expert indices, read by a `gather`)
K is the selection rank: the one output rank that no input names.

The textual form used by the lowering is FuseMax's notation with explicit rank names:
    "QK[B,H,M,P] = Q[B,P,H,E] * K[B,M,H,E]"       (map mul, reduce sum over E)
    "RM[M1+1,P] = max(RM[M1,P], LM[M1,P])"        (iterative rank M1)
    "BK[B,H,M1,M0,E] = K[B,M1*64+M0,H,E]"         (rank partitioning, copy)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import SpecError
from .index import Affine
from .ops import MAP_OPS, REDUCE_OPS, SELECT_OPS, Unary

KINDS = ("einsum", "gather", "append")


@dataclass(frozen=True)
class Access:
    """A tensor indexed by one affine expression per tensor rank.

    `fill` allows indices outside the tensor (padding of a non-dividing rank partition); the
    out-of-range elements read as `fill`. With `fill=None` an out-of-range index is an error.
    """

    tensor: str
    index: tuple[Affine, ...]
    fill: float | None = None

    @property
    def ranks(self) -> tuple[str, ...]:
        seen: list[str] = []
        for expr in self.index:
            for r in expr.ranks:
                if r not in seen:
                    seen.append(r)
        return tuple(seen)

    def is_plain(self) -> bool:
        plain = [e.plain_rank for e in self.index]
        return all(p is not None for p in plain) and len(set(plain)) == len(plain)

    def __str__(self) -> str:
        return f"{self.tensor}[{','.join(str(e) for e in self.index)}]"


@dataclass(frozen=True)
class Einsum:
    name: str
    output: Access
    inputs: tuple[Access, ...]
    map_op: str | None = None
    reduce_op: str | None = None
    pre: tuple[Unary, ...] = ()
    post: tuple[Unary, ...] = ()
    kind: str = "einsum"
    # gather: the table rank looked up by the index tensor's values.
    # append: the output rank along which `new` is placed, at offset `at`.
    along: str | None = None
    at: int = 0
    group: str = ""
    layer: int | None = None
    note: str = ""
    attrs: tuple[tuple[str, str], ...] = field(default=())

    @property
    def ranks(self) -> tuple[str, ...]:
        """The iteration ranks, output ranks first, in order of appearance."""
        seen: list[str] = []
        accesses = (self.output, *self.inputs)
        if self.kind == "gather":
            accesses = (self.output,)
        for acc in accesses:
            for r in acc.ranks:
                if r not in seen:
                    seen.append(r)
        for u in (*self.pre, *self.post):
            for r in u.ranks:
                if r not in seen:
                    seen.append(r)
        return tuple(seen)

    @property
    def reduced_ranks(self) -> tuple[str, ...]:
        if self.kind != "einsum":
            return ()
        out = set(self.output.ranks)
        return tuple(r for r in self.ranks if r not in out)

    def check_form(self) -> None:
        """Structural checks that need no shapes; raise SpecError naming this Einsum."""
        where = f"Einsum {self.name}"
        if self.kind not in KINDS:
            raise SpecError(f"{where}: kind {self.kind!r}; allowed: {', '.join(KINDS)}")
        if self.kind == "gather":
            if len(self.inputs) != 2 or self.along is None:
                raise SpecError(f"{where}: gather needs (table, indices) and the looked-up rank")
            return
        if self.kind == "append":
            if len(self.inputs) != 2 or self.along is None:
                raise SpecError(f"{where}: append needs (cache_in, new) and the rank to append along")
            return
        n = len(self.inputs)
        if n not in (1, 2):
            raise SpecError(f"{where}: {n} inputs; an Einsum takes 1 or 2")
        if n == 2 and self.map_op not in MAP_OPS:
            raise SpecError(f"{where}: map operator {self.map_op!r}; allowed: {', '.join(MAP_OPS)}")
        if n == 1 and self.map_op is not None:
            raise SpecError(f"{where}: map operator {self.map_op!r} given for a single input")
        if self.reduce_op in SELECT_OPS:
            self._check_select(where)
            return
        if self.reduced_ranks and self.reduce_op not in REDUCE_OPS:
            raise SpecError(
                f"Einsum {self.name}: rank {self.reduced_ranks[0]} is absent from the output, so a "
                f"reduce operator is needed; allowed: {', '.join((*REDUCE_OPS, *SELECT_OPS))}"
            )
        if not self.reduced_ranks and self.reduce_op is not None:
            raise SpecError(f"{where}: reduce operator {self.reduce_op!r} but no rank is reduced")

    @property
    def selection_rank(self) -> str | None:
        """The output rank of a `topk`/`argtopk` that no input names (None for other Einsums)."""
        if self.reduce_op not in SELECT_OPS:
            return None
        named = {r for acc in self.inputs for r in acc.ranks}
        free = [r for r in self.output.ranks if r not in named]
        return free[0] if len(free) == 1 else None

    def _check_select(self, where: str) -> None:
        if len(self.inputs) != 1 or self.pre or len(self.reduced_ranks) != 1 or self.selection_rank is None:
            raise SpecError(f"{where}: {self.reduce_op} takes one input, reduces one rank and writes one "
                            f"selection rank that the input does not name")

    def __str__(self) -> str:
        if self.kind == "gather":
            return f"{self.output} = {self.inputs[0].tensor}[{self.inputs[1]}, ...] (gather {self.along})"
        if self.kind == "append":
            return f"{self.output} = append({self.inputs[0]}, {self.inputs[1]} at {self.along}={self.at})"
        if len(self.inputs) == 2:
            a, b = self.inputs
            sym = {"mul": "*", "add": "+", "sub": "-", "div": "/"}.get(self.map_op)
            rhs = f"{a} {sym} {b}" if sym else f"{self.map_op}({a}, {b})"
        else:
            rhs = str(self.inputs[0])
        for u in self.pre:
            rhs = f"{u}({rhs})"
        if self.reduced_ranks:
            rhs = f"{self.reduce_op}_{{{','.join(self.reduced_ranks)}}} {rhs}"
        for u in self.post:
            rhs = f"{u}({rhs})"
        return f"{self.output} = {rhs}"


_ACCESS = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\[([^\]]*)\]\s*$")
_FUNC = re.compile(r"^\s*(max|min)\s*\((.*)\)\s*$")
_INFIX = {"*": "mul", "+": "add", "-": "sub", "/": "div"}


def parse_access(text: str, fill: float | None = None) -> Access:
    m = _ACCESS.match(text)
    if not m:
        raise SpecError(f"bad tensor access {text!r}: expected NAME[expr,expr,...]")
    name, body = m.groups()
    index = tuple(Affine.parse(part) for part in body.split(",")) if body.strip() else ()
    return Access(name, index, fill)


def gather(out: str, table: str, idx: str, out_ranks: str, along: str, **tags) -> Einsum:
    """out[out_ranks] = the rows of `table` (an access text, e.g. `WTE[V,D]`) picked along rank
    `along` by the integer indices `idx` (an access text, e.g. `TOK[B,P]`)."""
    return Einsum(name=out, output=parse_access(f"{out}[{out_ranks}]"),
                  inputs=(parse_access(table), parse_access(idx)), kind="gather", along=along, **tags)


def _split_top(text: str, seps: str) -> tuple[str, str, str] | None:
    """Split at the first separator outside brackets/parentheses."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif depth == 0 and ch in seps:
            return text[:i], ch, text[i + 1 :]
    return None


def parse_einsum(
    name: str, text: str, *, fills: dict[str, float] | None = None, **fields
) -> Einsum:
    """Build an Einsum from `OUT[...] = A[...] <op> B[...]`, `max(A,B)`, `min(A,B)` or `A[...]`.

    `fills` gives the padding value of inputs that may be indexed out of range, by tensor name.
    Remaining keyword arguments set the other Einsum fields (reduce_op, pre, post, group, ...).
    """
    fills = fills or {}
    if "=" not in text:
        raise SpecError(f"Einsum {name}: {text!r} has no '='")
    lhs, rhs = text.split("=", 1)
    output = parse_access(lhs)

    def acc(t: str) -> Access:
        a = parse_access(t)
        return Access(a.tensor, a.index, fills.get(a.tensor))

    func = _FUNC.match(rhs)
    if func:
        parts = _split_top(func.group(2), ",")
        if parts is None:
            raise SpecError(f"Einsum {name}: {func.group(1)}() needs two arguments")
        inputs, map_op = (acc(parts[0]), acc(parts[2])), func.group(1)
    else:
        parts = _split_top(rhs, "*+/-")
        if parts is None:
            inputs, map_op = (acc(rhs),), None
        else:
            inputs, map_op = (acc(parts[0]), acc(parts[2])), _INFIX[parts[1]]
    if "reduce_op" not in fields and map_op == "mul":
        fields["reduce_op"] = "sum"
    einsum = Einsum(name=name, output=output, inputs=inputs, map_op=map_op, **fields)
    if not einsum.reduced_ranks and einsum.reduce_op is not None:
        einsum = Einsum(**{**einsum.__dict__, "reduce_op": None})
    return einsum
